import t from 'tap';
import { adminClient, startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';

// A master that answers but takes no writes: maxmemory reached with noeviction (OOM). Every write is refused whole,
// with a code of its own and a retry-after; reads go on; once memory is freed, writes come back by themselves.
const topo = await startTestTopology(t);
const app = await startApp(t, topo);
const admin = await loginAdmin(app);
const buyer = await login(app, 'buyer');
const productId = await createProduct(app, admin.auth, { stock: 100 });
const redis = adminClient(t, topo);

const BALLAST = 'test-ballast';
const info = async (field: string) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(await redis.info('memory'))?.[1]);
const storedStock = async () => Number(await app.redis.master.hget(app.redis.keys.product(productId), 'stock'));
const keysOf = async () => (await redis.keys(`${app.redis.keys.product('')}*`)).length;

/** maxmemory a little above what is used, then a value of the test's own grown until the master refuses it. */
async function fillMemory(): Promise<void> {
  await redis.config('SET', 'maxmemory', String((await info('used_memory')) + 8 * 2 ** 20));
  for (const size of [2 ** 20, 2 ** 14, 2 ** 10]) {
    // Each size until refused: the last ones leave the master within a kilobyte of its limit.
    for (let i = 0; i < (16 * 2 ** 20) / size; i++) {
      const refused = await redis.append(BALLAST, 'x'.repeat(size)).then(
        () => false,
        (err: Error) => err.message.startsWith('OOM'),
      );
      if (refused) break;
    }
  }
}

t.teardown(async () => {
  await redis.del(BALLAST);
  await redis.config('SET', 'maxmemory', '0');
});

t.test('at maxmemory: writes refused whole (503 STORE_FULL), reads answered, back once memory is freed', async (t) => {
  const stockBefore = await storedStock();
  const productsBefore = await keysOf();
  await fillMemory();

  const purchase = await call(app, 'POST', '/api/v1/purchases', {
    auth: buyer.auth,
    body: { productId, quantity: 2 },
    headers: { 'idempotency-key': 'while-full' },
  });
  assertError(t, purchase, 503, 'STORE_FULL');
  t.equal(purchase.headers['retry-after'], '2', 'retry-after: an operator frees memory, not a failover');
  t.equal(await storedStock(), stockBefore, 'no stock was taken');

  const basket = await call(app, 'POST', '/api/v1/purchases', {
    auth: buyer.auth,
    body: { items: [{ productId, quantity: 1 }] },
  });
  assertError(t, basket, 503, 'STORE_FULL');

  const registration = await call(app, 'POST', '/api/v1/auth/register', {
    body: { username: 'newcomer', password: 'correct-horse-9' },
  });
  assertError(t, registration, 503, 'STORE_FULL');
  t.equal(await redis.hexists(app.redis.keys.usernames(), 'newcomer'), 0, 'no half-registered user');

  const created = await call(app, 'POST', '/api/v1/products', {
    auth: admin.auth,
    body: { name: 'Refused', priceCents: 100, stock: 1 },
  });
  assertError(t, created, 503, 'STORE_FULL');
  t.equal(await keysOf(), productsBefore, 'no product half-created');

  const read = await call(app, 'GET', `/api/v1/products/${productId}`);
  t.equal(read.status, 200, 'a catalog read is answered');
  t.equal(read.body.stock, stockBefore, 'with the stock as it was');
  const mine = await call(app, 'GET', '/api/v1/purchases', { auth: buyer.auth });
  t.equal(mine.status, 200, "a buyer's own purchases are listed");

  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /evergreen_purchases_total\{outcome="store_full"\} 2/, 'counted as store_full');

  await redis.del(BALLAST);
  const retried = await call(app, 'POST', '/api/v1/purchases', {
    auth: buyer.auth,
    body: { productId, quantity: 2 },
    headers: { 'idempotency-key': 'while-full' },
  });
  t.equal(retried.status, 201, 'the same key once memory is freed (maxmemory still set): bought');
  t.equal(await storedStock(), stockBefore - 2, 'once');
  const again = await call(app, 'POST', '/api/v1/auth/register', {
    body: { username: 'newcomer', password: 'correct-horse-9' },
  });
  t.equal(again.status, 201, 'and the registration goes through');
});
