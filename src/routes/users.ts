import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { UpdateUserBodySchema, UserSchema } from '../schemas/users.js';
import { IdParamsSchema, PageQuerySchema, PageSchema, errorResponses } from '../schemas/common.js';
import { Forbidden } from '../errors.js';

const UserPageSchema = PageSchema(Type.Ref(UserSchema), 'UserPage');

/** Self or admin: anyone may act on their own account, admins on every account. */
function assertSelfOrAdmin(request: FastifyRequest, id: string): void {
  if (request.user.role !== 'admin' && request.user.id !== id) {
    throw new Forbidden('You may only access your own account');
  }
}

const users: FastifyPluginAsyncTypebox = async (app) => {
  const store = app.stores.users;
  app.addHook('preHandler', app.authenticate);
  const security = [{ bearerAuth: [] }];

  app.get(
    '/me',
    {
      schema: {
        tags: ['users'],
        summary: 'The signed-in user',
        security,
        response: { 200: Type.Ref(UserSchema), ...errorResponses(401) },
      },
    },
    async (request) => store.get(request.user.id),
  );

  app.get(
    '',
    {
      preHandler: app.requireAdmin,
      schema: {
        tags: ['users'],
        summary: 'All users (admin)',
        security,
        querystring: PageQuerySchema,
        response: { 200: UserPageSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => store.list(request.query),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags: ['users'],
        security,
        params: IdParamsSchema,
        response: { 200: Type.Ref(UserSchema), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      assertSelfOrAdmin(request, request.params.id);
      return store.get(request.params.id);
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change username, password or email (admins: also role)',
        security,
        params: IdParamsSchema,
        body: UpdateUserBodySchema,
        response: { 200: Type.Ref(UserSchema), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      assertSelfOrAdmin(request, request.params.id);
      if (request.body.role !== undefined && request.user.role !== 'admin') {
        throw new Forbidden('Only admins may change roles');
      }
      return store.update(request.params.id, request.body);
    },
  );

  app.delete(
    '/:id',
    {
      schema: {
        tags: ['users'],
        security,
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      assertSelfOrAdmin(request, request.params.id);
      await store.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );
};

export default users;
