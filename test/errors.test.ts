import t, { type Test } from 'tap';
import Fastify from 'fastify';
import redisErrors from 'redis-errors';
import * as errors from '../src/errors.js';
import { DomainError, NotDurable, OutOfStock, RateLimited, RequestInProgress } from '../src/errors.js';
import errorHandler from '../src/plugins/app/error-handler.js';
import { purchaseOutcome } from '../src/metrics.js';

const { ReplyError } = redisErrors;

/** Every export of src/errors.ts but the base, with the status and code the contract gives it. */
const CONTRACT: Record<string, [statusCode: number, code: string]> = {
  ValidationFailed: [400, 'VALIDATION_ERROR'],
  InvalidCursor: [400, 'INVALID_CURSOR'],
  Unauthorized: [401, 'UNAUTHORIZED'],
  InvalidCredentials: [401, 'INVALID_CREDENTIALS'],
  Forbidden: [403, 'FORBIDDEN'],
  RouteNotFound: [404, 'NOT_FOUND'],
  UserNotFound: [404, 'USER_NOT_FOUND'],
  ProductNotFound: [404, 'PRODUCT_NOT_FOUND'],
  PurchaseNotFound: [404, 'PURCHASE_NOT_FOUND'],
  UsernameTaken: [409, 'USERNAME_TAKEN'],
  OutOfStock: [409, 'OUT_OF_STOCK'],
  CancelWindowClosed: [409, 'CANCEL_WINDOW_CLOSED'],
  RequestInProgress: [409, 'REQUEST_IN_PROGRESS'],
  IdempotencyKeyReused: [422, 'IDEMPOTENCY_KEY_REUSED'],
  RateLimited: [429, 'RATE_LIMITED'],
  NotDurable: [503, 'NOT_DURABLE'],
  TooMuchContention: [503, 'TRY_AGAIN'],
  ServiceUnavailable: [503, 'SERVICE_UNAVAILABLE'],
  Busy: [503, 'BUSY'],
  TooManyStreams: [503, 'TOO_MANY_STREAMS'],
  StoreFull: [503, 'STORE_FULL'],
  StoreNotPersisting: [503, 'STORE_NOT_PERSISTING'],
  InternalError: [500, 'INTERNAL_ERROR'],
};

t.test('every domain error is a DomainError with its status and stable code, and no stack trace', async (t) => {
  const { DomainError: base, ...classes } = errors;
  t.equal(base, DomainError);
  t.same(Object.keys(classes).sort(), Object.keys(CONTRACT).sort(), 'the table above lists every export');
  for (const [name, Class] of Object.entries(classes)) {
    const err = new Class('detail');
    const [statusCode, code] = CONTRACT[name]!;
    t.ok(err instanceof DomainError, `${name} is a DomainError`);
    t.ok(err instanceof Error, `${name} is an Error`);
    t.ok(err instanceof Class, `${name} is recognised by its own class`);
    t.match(err, { statusCode, code }, name);
    t.equal(err.stack, undefined, `${name}: an expected outcome, not a bug`);
  }
  t.notOk(new OutOfStock('x') instanceof NotDurable, 'one class is not taken for another');
});

t.test('messages: `%s` takes the argument, fixed ones stay fixed', async (t) => {
  t.equal(new OutOfStock('Only 3 left in stock').message, 'Only 3 left in stock');
  t.equal(new errors.Forbidden('Admins only').message, 'Admins only');
  t.equal(new errors.ProductNotFound().message, 'Product not found');
  t.equal(new NotDurable().message.startsWith('The purchase was not confirmed by a replica in time'), true);
});

t.test("a purchase's metric outcome comes from its error's class", async (t) => {
  t.equal(purchaseOutcome(new OutOfStock('Only 1 left')), 'out_of_stock');
  t.equal(purchaseOutcome(new errors.ProductNotFound()), 'product_not_found');
  t.equal(purchaseOutcome(new NotDurable()), 'not_durable');
  t.equal(purchaseOutcome(new RequestInProgress()), 'request_in_progress');
  t.equal(purchaseOutcome(new errors.IdempotencyKeyReused()), 'idempotency_key_reused');
  t.equal(purchaseOutcome(new errors.TooMuchContention()), 'try_again');
  t.equal(purchaseOutcome(new errors.ServiceUnavailable()), 'unavailable');
  t.equal(purchaseOutcome(new ReplyError('NOREPLICAS Not enough good replicas to write.')), 'unavailable');
  t.equal(purchaseOutcome(Object.assign(new Error('x'), { code: 'OUT_OF_STOCK' })), 'unavailable', 'a look-alike');
  t.equal(purchaseOutcome(undefined), 'unavailable');
  t.equal(purchaseOutcome(new ReplyError("OOM command not allowed when used memory > 'maxmemory'.")), 'store_full');
  t.equal(purchaseOutcome(new ReplyError('MISCONF Errors writing to the AOF file')), 'store_not_persisting');
});

/** The error handler alone on a bare Fastify instance: each route throws what its name says. */
async function appThrowing(t: Test) {
  const app = Fastify({ logger: false });
  await app.register(errorHandler);
  app.get('/domain', async () => {
    throw new OutOfStock('Only 3 left in stock');
  });
  app.get('/in-progress', async () => {
    throw new RequestInProgress();
  });
  app.get('/not-durable', async () => {
    throw new NotDurable();
  });
  app.get('/rate-limited', async (_request, reply) => {
    reply.header('retry-after', '7'); // as the login limiter does: the thrower knows how long
    throw new RateLimited('Too many login attempts, retry in 7 seconds');
  });
  app.post('/validated', { schema: { body: { type: 'object', required: ['quantity'] } } }, async () => 'ok');
  app.get('/redis-down', async () => {
    throw new ReplyError('NOREPLICAS Not enough good replicas to write.');
  });
  app.get('/redis-oom', async () => {
    throw new ReplyError("OOM command not allowed when used memory > 'maxmemory'.");
  });
  app.get('/redis-misconf', async () => {
    throw new ReplyError('MISCONF Errors writing to the AOF file: No space left on device');
  });
  app.get('/redis-timeout', async () => {
    throw new Error('Command timed out');
  });
  app.get('/bug', async () => {
    const secret = 'hunter2';
    throw new TypeError(`Cannot read properties of undefined (reading '${secret}')`);
  });
  app.get('/range', async () => {
    throw Object.assign(new Error('bytes 900-999 of /srv/secret.bin'), { statusCode: 416 });
  });
  app.get('/odd-code', async () => {
    throw Object.assign(new Error('internal detail'), { statusCode: 400, code: 'constructor' });
  });
  app.get('/look-alike', async () => {
    throw Object.assign(new Error('upstream said so'), { statusCode: 503, code: 'NOT_DURABLE' });
  });
  t.teardown(() => app.close());
  return app;
}

t.test('a domain error is answered with its own status, code and message', async (t) => {
  const app = await appThrowing(t);
  const res = await app.inject({ method: 'GET', url: '/domain' });
  t.equal(res.statusCode, 409);
  t.same(res.json(), { statusCode: 409, code: 'OUT_OF_STOCK', error: 'Conflict', message: 'Only 3 left in stock' });
  t.equal(res.headers['retry-after'], undefined);

  const inProgress = await app.inject({ method: 'GET', url: '/in-progress' });
  t.match(inProgress, { statusCode: 409, headers: { 'retry-after': '1' } }, '409 REQUEST_IN_PROGRESS: retry soon');
  t.equal(inProgress.json().code, 'REQUEST_IN_PROGRESS');

  const notDurable = await app.inject({ method: 'GET', url: '/not-durable' });
  t.match(notDurable, { statusCode: 503, headers: { 'retry-after': '1' } });
  t.equal(notDurable.json().code, 'NOT_DURABLE');

  const limited = await app.inject({ method: 'GET', url: '/rate-limited' });
  t.match(limited, { statusCode: 429, headers: { 'retry-after': '7' } }, 'the header set before the throw stays');
  t.same(limited.json(), {
    statusCode: 429,
    code: 'RATE_LIMITED',
    error: 'Too Many Requests',
    message: 'Too many login attempts, retry in 7 seconds',
  });
});

t.test("Fastify's own client errors keep their status, under stable codes of ours", async (t) => {
  const app = await appThrowing(t);
  const json = { 'content-type': 'application/json' };
  const invalid = await app.inject({ method: 'POST', url: '/validated', headers: json, payload: '{"quantity":' });
  t.match(invalid.json(), { statusCode: 400, code: 'INVALID_JSON', error: 'Bad Request' });
  const validation = await app.inject({ method: 'POST', url: '/validated', payload: { other: 1 } });
  t.same(validation.json(), {
    statusCode: 400,
    code: 'VALIDATION_ERROR',
    error: 'Bad Request',
    message: "body must have required property 'quantity'",
  });
  const media = await app.inject({ method: 'POST', url: '/validated', headers: { 'content-type': 'text/x-y' } });
  t.match(media.json(), { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  const poisoned = await app.inject({
    method: 'POST',
    url: '/validated',
    headers: json,
    payload: '{"quantity":1,"__proto__":{"admin":true}}',
  });
  t.same(poisoned.json(), {
    statusCode: 400,
    code: 'INVALID_JSON',
    error: 'Bad Request',
    message: 'The body is not valid JSON, or sets __proto__ or constructor.prototype',
  });
  t.notMatch(invalid.body, /Unexpected|position/, "a fixed message, not the parser's");
  const missing = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
  t.same(missing.json(), {
    statusCode: 404,
    code: 'NOT_FOUND',
    error: 'Not Found',
    message: 'Route GET /nowhere not found',
  });
});

t.test('any other client error keeps its status, under a code and message made from the status alone', async (t) => {
  const app = await appThrowing(t);
  const range = await app.inject({ method: 'GET', url: '/range' });
  t.same(range.json(), {
    statusCode: 416,
    code: 'RANGE_NOT_SATISFIABLE',
    error: 'Range Not Satisfiable',
    message: 'Range Not Satisfiable',
  });
  const odd = await app.inject({ method: 'GET', url: '/odd-code' });
  t.match(odd.json(), { statusCode: 400, code: 'BAD_REQUEST', message: 'Bad Request' }, 'a code named like a builtin');
  t.notMatch(range.body + odd.body, /secret|internal detail/);
});

t.test('a Redis outage is a 503 SERVICE_UNAVAILABLE that names no Redis internals', async (t) => {
  const app = await appThrowing(t);
  for (const url of ['/redis-down', '/redis-timeout']) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 503, url);
    t.equal(res.headers['retry-after'], '1', url);
    t.same(res.json(), {
      statusCode: 503,
      code: 'SERVICE_UNAVAILABLE',
      error: 'Service Unavailable',
      message: 'The data store is temporarily unavailable; retry shortly',
    });
    t.notMatch(res.body, /NOREPLICAS|timed out/, url);
  }
});

t.test('a master that refuses writes it cannot take: 503 under a code of its own, retry in 2 s', async (t) => {
  const app = await appThrowing(t);
  for (const [url, code] of [
    ['/redis-oom', 'STORE_FULL'],
    ['/redis-misconf', 'STORE_NOT_PERSISTING'],
  ] as const) {
    const res = await app.inject({ method: 'GET', url });
    t.equal(res.statusCode, 503, url);
    t.equal(res.headers['retry-after'], '2', url);
    t.match(res.json(), { statusCode: 503, code, error: 'Service Unavailable', message: /nothing was written/ }, url);
    t.notMatch(res.body, /OOM|MISCONF|maxmemory|AOF/, `${url}: no Redis words`);
  }
});

t.test('a bug is a 500 INTERNAL_ERROR that shows nothing of it', async (t) => {
  const app = await appThrowing(t);
  const res = await app.inject({ method: 'GET', url: '/bug' });
  t.equal(res.statusCode, 500);
  t.same(res.json(), {
    statusCode: 500,
    code: 'INTERNAL_ERROR',
    error: 'Internal Server Error',
    message: 'Internal server error',
  });
  t.notMatch(res.body, /hunter2|TypeError|\.ts|at /);
  t.equal(res.headers['retry-after'], undefined);
});

t.test('an error that only looks like ours is not trusted: recognised by class, not by shape', async (t) => {
  const app = await appThrowing(t);
  const res = await app.inject({ method: 'GET', url: '/look-alike' });
  t.equal(res.statusCode, 500);
  t.match(res.json(), { code: 'INTERNAL_ERROR', message: 'Internal server error' });
  t.notMatch(res.body, /upstream said so/);
});
