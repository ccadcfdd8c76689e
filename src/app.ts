import Fastify, { type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Config } from './config.js';
import { validatorCompiler } from './validation.js';
import { ErrorSchema } from './schemas/common.js';
import { UserSchema } from './schemas/users.js';
import { ProductSchema } from './schemas/products.js';
import { PurchaseSchema } from './schemas/purchases.js';
import errorHandler, { answerClientError, answerConnect, answerFrameworkError } from './plugins/app/error-handler.js';
import securityHeaders from './plugins/external/helmet.js';
import cors from './plugins/external/cors.js';
import metrics from './plugins/external/metrics.js';
import swagger from './plugins/external/swagger.js';
import redis from './plugins/app/redis.js';
import stores from './plugins/app/stores.js';
import live from './plugins/app/live.js';
import jwt from './plugins/external/jwt.js';
import rateLimit from './plugins/external/rate-limit.js';
import auth from './plugins/app/auth.js';
import healthRoutes from './routes/health.js';
import authRoutes from './routes/auth.js';
import userRoutes from './routes/users.js';
import productRoutes from './routes/products.js';
import productEventRoutes from './routes/product-events.js';
import purchaseRoutes from './routes/purchases.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

// A request id from NGINX or the client is kept if it is safe to log; otherwise a new one is made.
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const requestId = (request: IncomingMessage) => {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
};

// Scraped and probed every few seconds: logged only at debug, so the log holds the traffic.
const PROBE_ROUTES = new Set(['/metrics', '/health/live', '/health/ready']);

function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.passwordHash', 'password'],
      censor: '[redacted]',
    },
  };
}

/** Builds the whole app (and connects to Redis) without listening: the server and the tests both use it. */
export async function buildApp(config: Config) {
  const app = Fastify({
    logger: loggerOptions(config),
    genReqId: requestId,
    requestIdHeader: false,
    // One line per request, written when it ends (the onResponse hook below), not Fastify's two.
    disableRequestLogging: true,
    trustProxy: config.trustProxy,
    bodyLimit: config.bodyLimit,
    // A body that sets __proto__ or constructor.prototype is refused (400 INVALID_JSON), never parsed around.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // While closing, still answer requests on open keep-alive connections (with Connection: close):
    // NGINX cannot retry a 503 without counting the instance as failed.
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.server.on('connect', answerConnect);

  app.decorate('config', config);
  app.setValidatorCompiler(validatorCompiler);
  // JSON in: a text/plain body (Fastify's other default parser) is a 415, like any other type.
  app.removeContentTypeParser('text/plain');
  for (const schema of [ErrorSchema, UserSchema, ProductSchema, PurchaseSchema]) app.addSchema(schema);
  // Callback hooks, not async ones: they run on every request, and need no promise.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    const line = { method: request.method, route: route ?? request.url, status: reply.statusCode };
    const level = route !== undefined && PROBE_ROUTES.has(route) ? 'debug' : 'info';
    request.log[level]({ ...line, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    done();
  });

  await app.register(errorHandler);
  // Before the rate limit: a 429 carries the security headers, and the CORS ones that let a browser read it.
  await app.register(securityHeaders);
  await app.register(cors);
  await app.register(metrics);
  await app.register(swagger);
  await app.register(redis);
  await app.register(stores);
  await app.register(live);
  await app.register(jwt);
  await app.register(rateLimit);
  await app.register(auth);

  await app.register(healthRoutes);
  await app.register(
    async (api) => {
      await api.register(authRoutes, { prefix: '/auth' });
      await api.register(userRoutes, { prefix: '/users' });
      await api.register(productRoutes, { prefix: '/products' });
      await api.register(productEventRoutes, { prefix: '/products' });
      await api.register(purchaseRoutes, { prefix: '/purchases' });
    },
    { prefix: '/api/v1' },
  );
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
