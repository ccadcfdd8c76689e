import t from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo, { RATE_LIMIT_MAX: '40', BODY_LIMIT_BYTES: '2048' });
const admin = await loginAdmin(app);

t.test('health: live while the process runs, ready while the master is reachable', async (t) => {
  t.match(await call(app, 'GET', '/health/live'), { status: 200, body: { status: 'ok' } });
  t.match(await call(app, 'GET', '/health/ready'), { status: 200, body: { status: 'ok', redis: { master: 'up' } } });
});

t.test('x-request-id: kept when the client (or NGINX) sends a safe one, made up otherwise', async (t) => {
  const given = await call(app, 'GET', '/health/live', { headers: { 'x-request-id': 'abc-123' } });
  t.equal(given.headers['x-request-id'], 'abc-123');
  const unsafe = await call(app, 'GET', '/health/live', {
    headers: { 'x-request-id': 'bad id\nwith newline'.replace('\n', ' ') },
  });
  t.match(unsafe.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'an unsafe id is replaced');
  const error = await call(app, 'GET', '/api/v1/nowhere', { headers: { 'x-request-id': 'err-1' } });
  t.equal(error.headers['x-request-id'], 'err-1', 'errors carry it too');
});

t.test('unknown routes are 404 NOT_FOUND in the contract shape', async (t) => {
  assertError(t, await call(app, 'GET', '/api/v1/nowhere'), 404, 'NOT_FOUND');
  assertError(t, await call(app, 'PUT', '/api/v1/products'), 404, 'NOT_FOUND');
  t.equal((await call(app, 'GET', '/api/v1/products/')).status, 200, 'a trailing slash is the same route');
});

t.test('a body over the limit is 413 PAYLOAD_TOO_LARGE', async (t) => {
  const res = await call(app, 'POST', '/api/v1/auth/register', {
    body: { username: 'big', password: 'x'.repeat(4000) },
  });
  assertError(t, res, 413, 'PAYLOAD_TOO_LARGE');
});

t.test('/metrics: Prometheus text with HTTP and business metrics', async (t) => {
  const user = await login(app, 'metric-buyer');
  const productId = await createProduct(app, admin.auth, { stock: 3, priceCents: 250 });
  await call(app, 'POST', '/api/v1/purchases', { auth: user.auth, body: { productId, quantity: 2 } });
  await call(app, 'POST', '/api/v1/purchases', { auth: user.auth, body: { productId, quantity: 2 } });
  await call(app, 'GET', `/api/v1/products/${productId}`);
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  t.equal(res.statusCode, 200);
  t.match(res.headers['content-type'], /text\/plain/);
  t.match(res.body, /http_request_duration_seconds_bucket\{.*route="\/api\/v1\/purchases"/);
  t.notMatch(res.body, /http_request_summary_seconds/, 'no summary: the histogram aggregates across instances');
  t.notMatch(res.body, /route="\/metrics"/, 'scrapes are not counted as traffic');
  t.match(res.body, /evergreen_units_sold_total 2/);
  t.match(res.body, /evergreen_revenue_cents_total 500/);
  t.match(res.body, /evergreen_redis_master\{address="127\.0\.0\.1:\d+"\} 1/);
  t.match(res.body, /evergreen_catalog_reads_total\{source="(replica|master)"\} [1-9]/);
  t.match(res.body, /evergreen_redis_pool_wait_seconds_count [1-9]/);
  t.match(res.body, /evergreen_redis_pool_pending 0/);
  t.match(res.body, /evergreen_login_limited_total\{limit="ip"\} 0/);
  t.match(res.body, /evergreen_purchases_total\{outcome="created"\} 1/);
  t.match(res.body, /evergreen_purchases_total\{outcome="out_of_stock"\} 1/);
  t.match(res.body, /evergreen_wait_total\{result="acked"\} 1/);
  t.match(res.body, /evergreen_redis_master_switches_total 0/);
  t.match(res.body, /process_cpu_seconds_total/);
});

t.test('/docs/json is an OpenAPI document covering every contract route', async (t) => {
  const res = await call(app, 'GET', '/docs/json');
  t.equal(res.status, 200);
  t.match(res.body.openapi, /^3\./);
  const routes = Object.entries(res.body.paths as Record<string, object>).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const contract = [
    'POST /api/v1/auth/register',
    'POST /api/v1/auth/login',
    'POST /api/v1/auth/logout',
    'GET /api/v1/users/me',
    'GET /api/v1/users',
    'GET /api/v1/users/{id}',
    'PATCH /api/v1/users/{id}',
    'DELETE /api/v1/users/{id}',
    'GET /api/v1/products',
    'GET /api/v1/products/{id}',
    'POST /api/v1/products',
    'PATCH /api/v1/products/{id}',
    'DELETE /api/v1/products/{id}',
    'POST /api/v1/purchases',
    'GET /api/v1/purchases',
    'GET /api/v1/purchases/{id}',
    'POST /api/v1/purchases/{id}/cancel',
    'GET /api/v1/products/{id}/events',
    'GET /api/v1/products/events',
  ];
  for (const route of contract) t.ok(routes.includes(route), `documents ${route}`);
  t.ok(res.body.components.schemas.Error, 'the error shape is documented');
  const purchase = res.body.paths['/api/v1/purchases'].post;
  t.ok(
    purchase.parameters.some((p: { name: string; in: string }) => p.name === 'idempotency-key' && p.in === 'header'),
    'Idempotency-Key is documented',
  );
  t.ok(purchase.responses['503'] && purchase.responses['422'], 'NOT_DURABLE and IDEMPOTENCY_KEY_REUSED are documented');
  const search = (res.body.paths['/api/v1/products'].get.parameters as { name: string; in: string }[])
    .filter((p) => p.in === 'query')
    .map((p) => p.name);
  for (const name of ['q', 'minPriceCents', 'maxPriceCents', 'inStock', 'sort', 'limit', 'cursor']) {
    t.ok(search.includes(name), `the catalog's ${name} parameter is documented`);
  }
  const cancel = res.body.paths['/api/v1/purchases/{id}/cancel'].post;
  t.ok(cancel.responses['200'] && cancel.responses['409'], "a cancellation's 200 and 409 are documented");
  const events = res.body.paths['/api/v1/products/{id}/events'].get;
  t.ok(events.responses['200'].content['text/event-stream'], 'a live stream is documented as text/event-stream');
  t.match(events.responses['200'].description, /Last-Event-ID/);
  const body = JSON.stringify(purchase.requestBody);
  t.match(body, /"items"/, 'the basket body is documented');
});

t.test('the general rate limit answers 429 RATE_LIMITED with retry-after', async (t) => {
  let limited;
  for (let i = 0; i < 60 && !limited; i++) {
    const res = await call(app, 'GET', '/api/v1/products', { ip: '10.7.7.7' });
    if (res.status === 429) limited = res;
  }
  t.ok(limited, 'the limit was reached');
  assertError(t, limited!, 429, 'RATE_LIMITED');
  t.ok(Number(limited!.headers['retry-after']) > 0);
  t.equal(
    (await call(app, 'GET', '/api/v1/products', { ip: '10.7.7.8' })).status,
    200,
    'other clients are not affected',
  );
  t.equal((await call(app, 'GET', '/health/live', { ip: '10.7.7.7' })).status, 200, 'health checks are never limited');
});

t.test('with Redis gone: ready is 503, live stays 200, requests get a clean 503', async (t) => {
  const user = await login(app, 'late-buyer');
  const productId = await createProduct(app, admin.auth, { stock: 3 });
  await topo.topology.stop();
  t.equal((await call(app, 'GET', '/health/live')).status, 200);
  t.match(await call(app, 'GET', '/health/ready'), {
    status: 503,
    body: { status: 'unavailable', redis: { master: 'down' } },
  });
  const res = await call(app, 'POST', '/api/v1/purchases', { auth: user.auth, body: { productId, quantity: 1 } });
  assertError(t, res, 503, 'SERVICE_UNAVAILABLE');
  t.equal(res.headers['retry-after'], '1');
  assertError(t, await call(app, 'GET', `/api/v1/products/${productId}`), 503, 'SERVICE_UNAVAILABLE');
});
