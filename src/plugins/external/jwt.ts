import fp from 'fastify-plugin';
import jwt from '@fastify/jwt';
import type { Role } from '../../schemas/users.js';

declare module '@fastify/jwt' {
  interface FastifyJWT {
    /** sub: user id; jti: this token's id (logout revokes it); ver: the user's session version at login */
    payload: { sub: string; jti: string; ver: number };
    user: { id: string; jti: string; exp: number; sessionVersion: number; role: Role };
  }
}

/** @fastify/jwt: signs and verifies the bearer tokens (HS256, with a jti so that logout can revoke one). */
export default fp(
  async (app) => {
    await app.register(jwt, {
      secret: app.config.auth.jwtSecret,
      sign: { expiresIn: app.config.auth.jwtExpiresInSeconds },
      formatUser: (payload) => {
        const claims = payload as { sub: string; jti: string; exp: number; ver?: number };
        return { id: claims.sub, jti: claims.jti, exp: claims.exp, sessionVersion: claims.ver ?? 0, role: 'customer' };
      },
    });
  },
  { name: 'jwt' },
);
