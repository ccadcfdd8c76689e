import fp from 'fastify-plugin';
import cors from '@fastify/cors';

/**
 * @fastify/cors, only when CORS_ORIGINS names the browser origins allowed to call the API: otherwise no answer
 * carries an Access-Control-Allow-Origin header and browsers keep other sites' scripts out. Bearer tokens, not
 * cookies, so no credentials.
 */
export default fp(
  async (app) => {
    const origins = app.config.corsOrigins;
    if (origins.length === 0) return;
    await app.register(cors, {
      // A list, even of one: the plugin reflects a request's Origin only if it is in the list (a lone string
      // would be sent to every origin).
      origin: [...origins],
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: [
        'x-request-id',
        'retry-after',
        'idempotent-replayed',
        'location',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
      ],
      credentials: false,
      maxAge: 600,
      // An OPTIONS without Origin is answered like a preflight, not with the plugin's plain-text 400.
      strictPreflight: false,
    });
  },
  { name: 'cors' },
);
