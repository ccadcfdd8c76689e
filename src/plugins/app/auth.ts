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

    // Counted in a script of ours: @fastify/rate-limit's createRateLimit names its keys after a route it
    // does not have (`undefinedundefined-`). Fails open like the general limit: a failover must not block logins.
    const { rateLimit: counters, keys } = app.redis;
    const { loginMax, windowMs } = app.config.rateLimit;
    const count = (key: string) => counters.countHits(key, windowMs, 1).catch(() => undefined);
    app.decorate('limitLoginAttempts', async (request: FastifyRequest, reply: FastifyReply) => {
      const username = String((request.body as { username?: unknown }).username).toLowerCase();
      const [byIp, byUser] = await Promise.all([
        count(keys.loginAttempts('ip', request.ip)),
        count(keys.loginAttempts('user', username)),
      ]);
      const over = (r: [number, number] | undefined): r is [number, number] => r !== undefined && r[0] > loginMax;
      const exceeded = [byIp, byUser].filter(over);
      if (exceeded.length > 0) {
        app.businessMetrics.loginLimited.inc({ limit: over(byIp) ? 'ip' : 'username' });
        const retryAfter = Math.max(...exceeded.map(([, ttlMs]) => Math.ceil(ttlMs / 1000)), 1);
        reply.header('retry-after', String(retryAfter));
        throw new RateLimited(`Too many login attempts, retry in ${retryAfter} seconds`);
      }
    });
  },
  { name: 'auth', dependencies: ['jwt', 'stores', 'redis'] },
);
