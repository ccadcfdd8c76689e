import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import type { Role } from '../../schemas/users.js';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; jti: string };
    user: { id: string; jti: string; exp: number; role: Role };
  }
}

/** @fastify/jwt: signs and verifies the bearer tokens (HS256, with a jti so that logout can revoke one). */
export default fp(
  async (app) => {
    await app.register(jwt, {
      secret: app.config.auth.jwtSecret,
      sign: { expiresIn: app.config.auth.jwtExpiresInSeconds },
      formatUser: (payload) => {
        const claims = payload as { sub: string; jti: string; exp: number };
        return { id: claims.sub, jti: claims.jti, exp: claims.exp, role: 'customer' };
      },
    });
  },
  { name: 'jwt' },
);
