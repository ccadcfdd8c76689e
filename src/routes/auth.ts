import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { LoginBodySchema, LoginResponseSchema } from '../schemas/auth.js';
import { RegisterBodySchema, UserSchema } from '../schemas/users.js';
import { errorResponses } from '../schemas/common.js';
import { InvalidCredentials } from '../errors.js';

const auth: FastifyPluginAsyncTypebox = async (app) => {
  const { users, tokens } = app.stores;

  app.post(
    '/register',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create a customer account',
        body: RegisterBodySchema,
        response: { 201: Type.Ref(UserSchema), ...errorResponses(400, 409, 429) },
      },
    },
    async (request, reply) => reply.status(201).send(await users.create(request.body)),
  );

  app.post(
    '/login',
    {
      preHandler: app.limitLoginAttempts,
      schema: {
        tags: ['auth'],
        summary: 'Exchange credentials for a bearer token',
        body: LoginBodySchema,
        response: { 200: LoginResponseSchema, ...errorResponses(400, 401, 429) },
      },
    },
    async (request) => {
      const verified = await users.verifyCredentials(request.body.username, request.body.password);
      if (!verified) throw new InvalidCredentials();
      const { user, sessionVersion } = verified;
      const token = app.jwt.sign({ sub: user.id, jti: randomUUID(), ver: sessionVersion });
      return { token, expiresIn: app.config.auth.jwtExpiresInSeconds, user };
    },
  );

  app.post(
    '/logout',
    {
      preHandler: app.authenticate,
      schema: {
        tags: ['auth'],
        summary: 'Revoke this token on every instance',
        security: [{ bearerAuth: [] }],
        response: { 204: Type.Null(), ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      await tokens.revoke(request.user.jti, request.user.exp);
      return reply.status(204).send(null);
    },
  );
};

export default auth;
