import t, { type Test } from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp, type Call } from './helpers/app.js';
import { eventually } from './helpers/fixtures.js';
import type { App } from '../src/app.js';

// Two API instances on one Redis topology, as behind NGINX. Limits are raised where a test sends many
// requests from one address; the login-limit test runs on its own pair with the default strictness.
const topo = await startTestTopology(t);
const env = { RATE_LIMIT_MAX: '100000', LOGIN_RATE_LIMIT_MAX: '100000' };
const one = await startApp(t, topo, env);
const two = await startApp(t, topo, env);
const admin = await loginAdmin(one);

/** Registers and logs in n users, alternating instances. */
async function buyers(prefix: string, n: number) {
  const users = [];
  for (let i = 0; i < n; i++) users.push(await login(i % 2 ? two : one, `${prefix}-${i}`));
  return users;
}

async function flashSale(t: Test, name: string, buyerCount: number, stock: number) {
  const productId = await createProduct(one, admin.auth, { name, stock });
  const users = await buyers(name, buyerCount);
  const watchRetriesBefore = await watchRetries();
  const results: Call[] = await Promise.all(
    users.map((user, i) =>
      call(i % 2 ? two : one, 'POST', '/api/v1/purchases', { auth: user.auth, body: { productId, quantity: 1 } }),
    ),
  );
  const count = (status: number) => results.filter((r) => r.status === status).length;
  t.equal(count(201), stock, `exactly ${stock} purchases succeed`);
  t.equal(count(409), buyerCount - stock, 'the rest are refused');
  t.ok(
    results.filter((r) => r.status === 409).every((r) => r.body.code === 'OUT_OF_STOCK'),
    'every refusal is OUT_OF_STOCK',
  );
  t.equal(results.filter((r) => r.status >= 500).length, 0, 'contention never surfaces as a 5xx');
  const product = await eventually(
    () => call(two, 'GET', `/api/v1/products/${productId}`),
    (res) => res.body.stock === 0,
  );
  t.equal(product.body.stock, 0, 'stock ends at 0, never below');
  const records = await one.redis.master.zrange(one.redis.keys.purchaseIndex(), '-', '+', 'BYLEX');
  const mine = await Promise.all(records.map((id) => one.redis.master.hget(one.redis.keys.purchase(id), 'productId')));
  t.equal(mine.filter((p) => p === productId).length, stock, `${stock} purchase records`);
  t.comment(
    `${name}: ${(await watchRetries()) - watchRetriesBefore} WATCH retries for ${buyerCount} buyers of ${stock} units`,
  );
}

/** WATCH retries counted by both instances' metrics. */
async function watchRetries(): Promise<number> {
  let total = 0;
  for (const app of [one, two]) total += (await app.businessMetrics.watchRetries.get()).values[0]?.value ?? 0;
  return total;
}

t.test('flash sale: 200 buyers, 50 units, both instances', (t) => flashSale(t, 'sale-200', 200, 50));

t.test('flash sale: 1,000 buyers, 100 units, both instances', (t) => flashSale(t, 'sale-1000', 1000, 100));

t.test('an Idempotency-Key replays through the other instance', async (t) => {
  const productId = await createProduct(one, admin.auth, { stock: 5 });
  const user = await login(one, 'replayer');
  const first = await call(one, 'POST', '/api/v1/purchases', {
    auth: user.auth,
    body: { productId, quantity: 2 },
    headers: { 'idempotency-key': 'cross-1' },
  });
  const again = await call(two, 'POST', '/api/v1/purchases', {
    auth: user.auth,
    body: { productId, quantity: 2 },
    headers: { 'idempotency-key': 'cross-1' },
  });
  t.equal(first.status, 201);
  t.equal(again.status, 201);
  t.equal(again.headers['idempotent-replayed'], 'true');
  t.equal(again.body.id, first.body.id);
  t.equal(
    (
      await eventually(
        () => call(two, 'GET', `/api/v1/products/${productId}`),
        (res) => res.body.stock === 3,
      )
    ).body.stock,
    3,
    'charged once',
  );
  assertError(
    t,
    await call(two, 'POST', '/api/v1/purchases', {
      auth: user.auth,
      body: { productId, quantity: 1 },
      headers: { 'idempotency-key': 'cross-1' },
    }),
    422,
    'IDEMPOTENCY_KEY_REUSED',
  );
});

t.test('a logout on one instance revokes the token on the other (within the cache delay, at most 1 s)', async (t) => {
  const user = await login(one, 'leaver');
  const me = (app: App) => call(app, 'GET', '/api/v1/users/me', { auth: user.auth });
  t.equal((await me(two)).status, 200, 'the token works on both');
  t.equal((await call(one, 'POST', '/api/v1/auth/logout', { auth: user.auth })).status, 204);
  assertError(t, await me(one), 401, 'UNAUTHORIZED');
  assertError(
    t,
    await eventually(
      () => me(two),
      (res) => res.status === 401,
      1000,
    ),
    401,
    'UNAUTHORIZED',
  );
});

t.test('the general limit holds across both instances, counted in Redis between requests', async (t) => {
  const strict = { RATE_LIMIT_MAX: '6', RATE_LIMIT_SYNC_MS: '10' };
  const apps: App[] = [await startApp(t, topo, strict), await startApp(t, topo, strict)];
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) {
    statuses.push((await call(apps[i % 2]!, 'GET', '/api/v1/products', { ip: '10.3.0.2' })).status);
    // Paced slower than the sync: each instance has heard the other's hits (a burst may overshoot by a sync's worth).
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  t.same(statuses, [200, 200, 200, 200, 200, 200, 429, 429], 'six requests in all, whichever instance takes them');
});

t.test('the login limit holds across both instances', async (t) => {
  const strict = { LOGIN_RATE_LIMIT_MAX: '4' };
  const apps: App[] = [await startApp(t, topo, strict), await startApp(t, topo, strict)];
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const res = await call(apps[i % 2]!, 'POST', '/api/v1/auth/login', {
      ip: '10.3.0.1',
      body: { username: 'target', password: `guess-${i}-xx` },
    });
    statuses.push(res.status);
  }
  t.same(statuses, [401, 401, 401, 401, 429, 429], 'four attempts in all, whichever instance takes them');
});
