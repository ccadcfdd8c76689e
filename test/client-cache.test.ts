import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { adminAuth } from '../stack/helpers/redis-users.js';
import { startTestTopology } from './helpers/topology.js';
import { call, createProduct, login, loginAdmin, startApp, type Call } from './helpers/app.js';
import type { App } from '../src/app.js';

// The client-side cache on two instances of one topology: what A writes, B reads fresh within the documented
// delay (docs/performance.md: milliseconds, never more than a second), including while B's cache holds it.
const DELAY_MS = 1000;
const topo = await startTestTopology(t);
const a = await startApp(t, topo);
const b = await startApp(t, topo);

async function untilTrusted(app: App): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (app.redis.cache.trustedLinks() < 3) {
    if (Date.now() > deadline) throw new Error(`only ${app.redis.cache.trustedLinks()} of 3 links trusted`);
    await sleep(20);
  }
}
await Promise.all([untilTrusted(a), untilTrusted(b)]);

const admin = await loginAdmin(a);

/** A counter's value on an instance, summed over the given label filter. */
async function counter(app: App, name: string, labels = ''): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labels))
      sum += Number(line.split(' ').at(-1));
  }
  return sum;
}

/** Polls `read` until `fresh` holds; returns how long that took. Fails past the documented delay. */
async function freshWithin(what: string, read: () => Promise<Call>, fresh: (res: Call) => boolean): Promise<number> {
  const start = performance.now();
  for (;;) {
    const res = await read();
    const elapsed = performance.now() - start;
    if (fresh(res)) return elapsed;
    if (elapsed > DELAY_MS) throw new Error(`${what}: still stale after ${Math.round(elapsed)} ms: ${res.status}`);
  }
}

const delays: number[] = [];
const report = (t: Test, what: string, measured: number[]) => {
  const sorted = [...measured].sort((x, y) => x - y);
  t.comment(
    `${what}: ${measured.length} changes, fresh on B after median ${sorted[sorted.length >> 1]!.toFixed(2)} ms, ` +
      `max ${sorted.at(-1)!.toFixed(2)} ms`,
  );
};

t.test('B serves a product from its cache, and reads A’s changes fresh, repeatedly', async (t) => {
  const id = await createProduct(a, admin.auth, { stock: 1000, priceCents: 100 });
  const get = () => call(b, 'GET', `/api/v1/products/${id}`);
  await freshWithin('created', get, (res) => res.status === 200);
  const hitsBefore = await counter(b, 'evergreen_cache_hits_total', 'kind="product"');
  for (let i = 0; i < 20; i++) t.equal((await get()).status, 200);
  t.ok((await counter(b, 'evergreen_cache_hits_total', 'kind="product"')) - hitsBefore >= 15, 'B answers from cache');

  const measured: number[] = [];
  for (let price = 101; price <= 130; price++) {
    t.equal((await get()).body.priceCents, price - 1, 'B holds the current price (cached)');
    const res = await call(a, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body: { priceCents: price } });
    t.equal(res.status, 200);
    measured.push(await freshWithin(`price ${price}`, get, (r) => r.body.priceCents === price));
  }
  report(t, 'price changes', measured);
  delays.push(...measured);
  t.ok((await counter(b, 'evergreen_cache_invalidations_total', '')) >= 30, 'B heard the changes from Redis');
});

t.test('stock sold through A is read fresh on B; so is a deletion', async (t) => {
  const buyer = await login(a, 'cache-buyer');
  const id = await createProduct(a, admin.auth, { stock: 100 });
  const get = () => call(b, 'GET', `/api/v1/products/${id}`);
  const measured: number[] = [];
  for (let i = 1; i <= 20; i++) {
    await get(); // cached on B before the sale
    const res = await call(a, 'POST', '/api/v1/purchases', { auth: buyer.auth, body: { productId: id, quantity: 1 } });
    t.equal(res.status, 201);
    measured.push(await freshWithin(`sale ${i}`, get, (r) => r.body.stock === 100 - i));
  }
  // A's own next read sees its sale at once (read-your-writes on the instance that wrote).
  await call(a, 'GET', `/api/v1/products/${id}`);
  await call(a, 'POST', '/api/v1/purchases', { auth: buyer.auth, body: { productId: id, quantity: 1 } });
  t.equal((await call(a, 'GET', `/api/v1/products/${id}`)).body.stock, 79, 'A reads its own sale at once');
  report(t, 'sales', measured);
  delays.push(...measured);

  await get();
  t.equal((await call(a, 'DELETE', `/api/v1/products/${id}`, { auth: admin.auth })).status, 204);
  delays.push(await freshWithin('deletion', get, (r) => r.status === 404));
  t.equal((await call(a, 'GET', `/api/v1/products/${id}`)).status, 404, 'A reads its own deletion at once');
});

t.test('a catalog page cached on B shows a product added and one changed through A', async (t) => {
  const list = () => call(b, 'GET', '/api/v1/products?limit=100');
  const first = await list();
  t.equal(first.status, 200);
  const pageHits = await counter(b, 'evergreen_cache_hits_total', 'kind="page"');
  await list();
  t.ok((await counter(b, 'evergreen_cache_hits_total', 'kind="page"')) > pageHits, 'the page came from the cache');
  const id = await createProduct(a, admin.auth, { stock: 5, name: 'Late arrival' });
  delays.push(
    await freshWithin('new product in page', list, (r) => r.body.items.some((p: { id: string }) => p.id === id)),
  );
  await call(a, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body: { name: 'Renamed' } });
  const renamed = (r: Call) =>
    r.body.items.some((p: { id: string; name: string }) => p.id === id && p.name === 'Renamed');
  delays.push(await freshWithin('renamed product in page', list, renamed));
});

t.test('a token revoked through A is refused by B within the delay', async (t) => {
  const me = (app: App, auth: { authorization: string }) => call(app, 'GET', '/api/v1/users/me', { auth });
  const cases: [string, (user: Awaited<ReturnType<typeof login>>) => Promise<Call>, number][] = [
    ['logout', (u) => call(a, 'POST', '/api/v1/auth/logout', { auth: u.auth }), 401],
    [
      'password change',
      (u) => call(a, 'PATCH', `/api/v1/users/${u.id}`, { auth: u.auth, body: { password: 'another-horse-77' } }),
      401,
    ],
    ['deleted account', (u) => call(a, 'DELETE', `/api/v1/users/${u.id}`, { auth: admin.auth }), 401],
  ];
  const measured: number[] = [];
  for (const [what, revoke, status] of cases) {
    for (let i = 0; i < 5; i++) {
      const user = await login(a, `revoked-${what.replace(' ', '-')}-${i}`);
      t.equal((await me(b, user.auth)).status, 200, `${what}: B accepts the token first`);
      await me(b, user.auth); // and holds its check in cache
      const res = await revoke(user);
      t.ok(res.status < 300, `${what}: done on A (${res.status})`);
      measured.push(
        await freshWithin(
          `${what} on B`,
          () => me(b, user.auth),
          (r) => r.status === status,
        ),
      );
      t.equal((await me(a, user.auth)).status, status, `${what}: refused on A at once`);
    }
  }

  // A role change: an admin made customer loses admin routes on B.
  const promoted = await login(a, 'briefly-admin');
  const users = () => call(b, 'GET', '/api/v1/users', { auth: promoted.auth });
  t.equal(
    (await call(a, 'PATCH', `/api/v1/users/${promoted.id}`, { auth: admin.auth, body: { role: 'admin' } })).status,
    200,
  );
  measured.push(await freshWithin('promotion on B', users, (r) => r.status === 200));
  await users();
  t.equal(
    (await call(a, 'PATCH', `/api/v1/users/${promoted.id}`, { auth: admin.auth, body: { role: 'customer' } })).status,
    200,
  );
  measured.push(await freshWithin('demotion on B', users, (r) => r.status === 403));
  report(t, 'revocations and role changes', measured);
  delays.push(...measured);
  t.ok((await counter(b, 'evergreen_cache_hits_total', 'kind="token"')) > 0, 'token checks were served from cache');
});

t.test('the delay, over every change above', async (t) => {
  report(t, 'all', delays);
  t.ok(Math.max(...delays) < DELAY_MS, `every change was read fresh within ${DELAY_MS} ms`);
});

t.test(
  'a node that refuses the invalidation channel for a while: untrusted meanwhile, trusted again after',
  async (t) => {
    const { host, redisPorts } = topo.topology.options;
    const nodes = redisPorts.map((port) => new Redis({ host, port, ...adminAuth(topo.secrets), protocol: 2 }));
    t.teardown(() => nodes.forEach((node) => node.disconnect()));
    // Redis drops the service's subscriptions at once; new ones are refused (NOPERM) until the channel is back.
    await Promise.all(nodes.map((node) => node.call('ACL', 'SETUSER', 'evergreen', 'resetchannels')));
    await sleep(600);
    t.equal(b.redis.cache.trustedLinks(), 0, 'no link is trusted while invalidations cannot arrive');
    const id = await createProduct(a, admin.auth, { stock: 7 });
    const hits = await counter(b, 'evergreen_cache_hits_total', 'kind="product"');
    for (let i = 0; i < 5; i++) t.equal((await call(b, 'GET', `/api/v1/products/${id}`)).status, 200);
    t.equal(await counter(b, 'evergreen_cache_hits_total', 'kind="product"'), hits, 'every read went to Redis');
    await Promise.all(nodes.map((node) => node.call('ACL', 'SETUSER', 'evergreen', '&__redis__:invalidate')));
    await untilTrusted(b);
    t.equal(b.redis.cache.trustedLinks(), 3, 'every link is trusted again once the channel is allowed');
  },
);

t.test('with CLIENT_CACHE=off nothing is tracked or cached', async (t) => {
  const off = await startApp(t, topo, { CLIENT_CACHE: 'off' });
  const id = await createProduct(a, admin.auth, { stock: 3 });
  for (let i = 0; i < 5; i++) t.equal((await call(off, 'GET', `/api/v1/products/${id}`)).status, 200);
  t.equal(await counter(off, 'evergreen_cache_hits_total', ''), 0, 'no hit');
  t.equal(off.redis.cache.trustedLinks(), 0, 'no tracked connection');
});
