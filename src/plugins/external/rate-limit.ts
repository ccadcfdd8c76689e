import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import { RateLimited } from '../../errors.js';

/**
 * @fastify/rate-limit, counters in Redis so that all instances share them: a general limit per client IP
 * on every API route. While Redis fails over, the limiter's commands fail fast (no offline queue) and the
 * request is let through (skipOnError): availability wins over strict limiting for those few seconds.
 */
export default fp(
  async (app) => {
    const { max, windowMs } = app.config.rateLimit;
    await app.register(rateLimit, {
      global: true,
      max,
      timeWindow: windowMs,
      redis: app.redis.rateLimit,
      nameSpace: app.redis.keys.rateLimit('api'),
      skipOnError: true,
      allowList: (request) => !request.url.startsWith('/api/'),
      errorResponseBuilder: (_request, context) => new RateLimited(`Rate limit exceeded, retry in ${context.after}`),
    });
  },
  { name: 'rate-limit', dependencies: ['redis'] },
);
