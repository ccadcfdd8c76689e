import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Forbidden, RateLimited, Unauthorized } from '../../errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler: a valid, not revoked bearer token of an existing user; sets request.user with the live role */
    authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** preHandler, after authenticate: the user is an admin */
    requireAdmin(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /** preHandler for login: attempts per client IP and per username, shared by every instance */
    limitLoginAttempts(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  }
}

export default fp(
  async (app) => {
    app.decorate('authenticate', async (request: FastifyRequest) => {
      try {
        await request.jwtVerify();
      } catch {
        throw new Unauthorized('A valid bearer token is required');
      }
      const state = await app.stores.tokens.check(request.user.jti, request.user.id, request.user.sessionVersion);
      if (!state) throw new Unauthorized('This token has been revoked (logout, password change or deleted account)');
      request.user.role = state.role;
    });

    app.decorate('requireAdmin', async (request: FastifyRequest) => {
      if (request.user.role !== 'admin') throw new Forbidden('Admins only');
    });

    const limits = { max: app.config.rateLimit.loginMax, timeWindow: app.config.rateLimit.windowMs, skipOnError: true };
    const byIp = app.createRateLimit({ ...limits, keyGenerator: (request) => `login-ip:${request.ip}` });
    const byUsername = app.createRateLimit({
      ...limits,
      keyGenerator: (request) => `login-user:${String((request.body as { username?: unknown }).username).toLowerCase()}`,
    });
    app.decorate('limitLoginAttempts', async (request: FastifyRequest, reply: FastifyReply) => {
      const results = await Promise.all([byIp(request), byUsername(request)]);
      const exceeded = results.filter((r) => !r.isAllowed && r.isExceeded);
      if (exceeded.length > 0) {
        const retryAfter = Math.max(...exceeded.map((r) => (r.isAllowed ? 0 : r.ttlInSeconds)), 1);
        reply.header('retry-after', String(retryAfter));
        throw new RateLimited(`Too many login attempts, retry in ${retryAfter} seconds`);
      }
    });
  },
  { name: 'auth', dependencies: ['jwt', 'stores', 'rate-limit'] },
);
