import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';

/**
 * @fastify/helmet: security headers on every answer, for what the API serves, JSON: a CSP that allows nothing (not
 * even framing), no referrer, nosniff. /docs (Swagger UI's HTML and scripts) sets its own, looser CSP (swagger.ts).
 * HSTS: browsers heed it only over HTTPS, i.e. behind a TLS-terminating proxy; this host only (the API cannot
 * know whether every sibling subdomain speaks HTTPS).
 */
export default fp(
  async (app) => {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
          frameAncestors: ["'none'"],
        },
      },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
    });
    // Answers under /api hold accounts, purchases and live stock: never kept by a browser or a shared cache.
    app.addHook('onRequest', (request, reply, done) => {
      if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
      done();
    });
  },
  { name: 'security-headers' },
);
