import fp from 'fastify-plugin';
import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { SharedCounters } from '../../redis/shared-counters.js';
import { RateLimited } from '../../errors.js';

/**
 * @fastify/rate-limit with a general limit per client IP on every API route, shared by all instances through Redis
 * (SharedCounters): counted locally and summed in Redis every RATE_LIMIT_SYNC_MS; a request waits for Redis only
 * on a client's first request of a window and past half its limit.
 * While Redis fails over, each instance limits on its own counts and sends them once Redis answers again.
 */
export default fp(
  async (app) => {
    const { max, windowMs, syncMs } = app.config.rateLimit;
    const counters = new SharedCounters(app.redis.rateLimit, app.redis.keys.rateLimit('api'), windowMs, syncMs);
    // The plugin builds its store with `new`: this one hands it the counters made above.
    const store = function counterStore() {
      return counters;
    } as unknown as FastifyRateLimitStoreCtor;
    app.addHook('onClose', () => counters.close());
    await app.register(rateLimit, {
      global: true,
      max,
      timeWindow: windowMs,
      store,
      allowList: (request) => !request.url.startsWith('/api/'),
      errorResponseBuilder: (_request, context) => new RateLimited(`Rate limit exceeded, retry in ${context.after}`),
    });
  },
  { name: 'rate-limit', dependencies: ['redis'] },
);
