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
      sign: { algorithm: 'HS256', expiresIn: app.config.auth.jwtExpiresInSeconds },
      // Only what this service signs: HS256 alone (never `none`, nor another HMAC the same secret could make),
      // and never a token without an expiry or the claims that tie it to a user and a session.
      // A token seen lately is not verified again (fast-jwt's cache, bounded; an entry lasts until the token's
      // own expiry at most): its signature cannot have changed. Revocation is the token check's job (auth.ts).
      verify: { algorithms: ['HS256'], requiredClaims: ['sub', 'jti', 'exp'], cache: 10_000 },
      formatUser: (payload) => {
        const claims = payload as { sub: string; jti: string; exp: number; ver?: number };
        return { id: claims.sub, jti: claims.jti, exp: claims.exp, sessionVersion: claims.ver ?? 0, role: 'customer' };
      },
    });
  },
  { name: 'jwt' },
);
