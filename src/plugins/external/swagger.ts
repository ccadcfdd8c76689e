import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

/** @fastify/swagger + swagger-ui: the OpenAPI document at /docs/json, generated from the route schemas. */
export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Evergreen',
          version: '1.0.0',
          description: 'Store backend on Redis with Sentinel high availability: users, products and purchases.',
        },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        tags: [{ name: 'auth' }, { name: 'users' }, { name: 'products' }, { name: 'purchases' }, { name: 'health' }],
      },
      hideUntagged: true,
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // The UI's own CSP, in place of the API's `default-src 'none'`: its page, scripts, styles and the document
      // from this origin only. Not the plugin's default, whose upgrade-insecure-requests breaks it over plain HTTP.
      staticCSP: [
        "default-src 'self'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "object-src 'none'",
        "script-src 'self'",
        "script-src-attr 'none'",
        // The one inline <style> in swagger-ui-bundle.js, its logo's white fill, by hash: no other inline style.
        "style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",
      ].join('; '),
      // No badge from validator.swagger.io: it would send the document's address to a third party.
      uiConfig: { validatorUrl: null },
    });
  },
  { name: 'swagger' },
);
