import t from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';
import { eventually } from './helpers/fixtures.js';
import { keySchema } from '../src/redis/keys.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo);
const admin = await loginAdmin(app);
const alice = await login(app, 'alice');
const bob = await login(app, 'bob');
const MISSING = '00000000-0000-7000-8000-000000000000';

const buy = (auth: { authorization: string }, body: object, key?: string) =>
  call(app, 'POST', '/api/v1/purchases', { auth, body, ...(key ? { headers: { 'idempotency-key': key } } : {}) });
/** The product's stock as the catalog shows it, once settled at `expected` (replica reads may trail by a moment). */
const stockOf = (id: string, expected: number) =>
  eventually(
    async () => (await call(app, 'GET', `/api/v1/products/${id}`)).body.stock as number,
    (stock) => stock === expected,
  );

t.test('POST /purchases buys at the current price and takes the stock', async (t) => {
  const productId = await createProduct(app, admin.auth, { priceCents: 450, stock: 10 });
  const res = await buy(alice.auth, { productId, quantity: 3 });
  t.equal(res.status, 201);
  t.match(res.body, {
    id: String,
    userId: alice.id,
    productId,
    quantity: 3,
    unitPriceCents: 450,
    totalCents: 1350,
    createdAt: String,
  });
  t.equal(res.headers.location, `/api/v1/purchases/${res.body.id}`);
  t.notOk(res.headers['idempotent-replayed']);
  t.equal(await stockOf(productId, 7), 7);
  const indexed = await app.redis.master.zscore(app.redis.keys.userPurchases(alice.id), res.body.id);
  t.equal(indexed, '0', 'the purchase is in the buyer index');
});

t.test(
  'POST /purchases: 404 PRODUCT_NOT_FOUND, 409 OUT_OF_STOCK, 400 invalid, 401 — and stock is untouched',
  async (t) => {
    const productId = await createProduct(app, admin.auth, { stock: 2 });
    assertError(t, await buy(alice.auth, { productId: MISSING, quantity: 1 }), 404, 'PRODUCT_NOT_FOUND');
    assertError(t, await buy(alice.auth, { productId, quantity: 3 }), 409, 'OUT_OF_STOCK');
    for (const body of [
      { productId, quantity: 0 },
      { productId, quantity: 1.5 },
      { productId, quantity: '1' },
      { productId },
      { productId, quantity: 1, unitPriceCents: 1 },
      { productId, quantity: 1, userId: bob.id },
    ]) {
      assertError(t, await buy(alice.auth, body), 400, 'VALIDATION_ERROR');
    }
    assertError(
      t,
      await call(app, 'POST', '/api/v1/purchases', { body: { productId, quantity: 1 } }),
      401,
      'UNAUTHORIZED',
    );
    t.equal(await stockOf(productId, 2), 2, 'no refused request took stock');
    t.equal((await buy(alice.auth, { productId, quantity: 2 })).status, 201, 'the exact remaining stock can be bought');
    assertError(t, await buy(alice.auth, { productId, quantity: 1 }), 409, 'OUT_OF_STOCK');
    t.equal(await stockOf(productId, 0), 0);
  },
);

t.test('Idempotency-Key: a repeat returns the original purchase and charges once', async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 5 });
  const first = await buy(alice.auth, { productId, quantity: 2 }, 'order-123');
  t.equal(first.status, 201);
  const again = await buy(alice.auth, { productId, quantity: 2 }, 'order-123');
  t.equal(again.status, 201);
  t.equal(again.headers['idempotent-replayed'], 'true');
  t.same(again.body, first.body, 'the very same purchase');
  t.equal(await stockOf(productId, 3), 3, 'stock taken once');
  const mine = await call(app, 'GET', '/api/v1/purchases?limit=100', { auth: alice.auth });
  t.equal(
    mine.body.items.filter((p: { productId: string }) => p.productId === productId).length,
    1,
    'one purchase record',
  );
});

t.test('Idempotency-Key: same key, other body is 422; keys are per user; bad keys are 400', async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 5 });
  t.equal((await buy(alice.auth, { productId, quantity: 1 }, 'key-a')).status, 201);
  assertError(t, await buy(alice.auth, { productId, quantity: 2 }, 'key-a'), 422, 'IDEMPOTENCY_KEY_REUSED');
  const bobs = await buy(bob.auth, { productId, quantity: 1 }, 'key-a');
  t.equal(bobs.status, 201, "another user's same key is another request");
  t.notOk(bobs.headers['idempotent-replayed']);
  assertError(t, await buy(alice.auth, { productId, quantity: 1 }, 'k'.repeat(256)), 400, 'VALIDATION_ERROR');
  t.equal(
    (await buy(alice.auth, { productId, quantity: 1 }, 'k'.repeat(255))).status,
    201,
    '255 characters is allowed',
  );
  t.equal(await stockOf(productId, 2), 2);
});

t.test('Idempotency-Key: a duplicate while the first is in flight is 409 REQUEST_IN_PROGRESS', async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 5 });
  // Another instance has claimed the key and not finished yet: its pending record is in Redis.
  const { fingerprint, pendingRecord } = await import('../src/stores/idempotency.js');
  const keys = keySchema(app.config.redis.keyPrefix);
  await app.redis.master.set(
    keys.idempotency(alice.id, 'busy-key'),
    pendingRecord(fingerprint({ productId, quantity: 1 })),
    'PX',
    5000,
  );
  const res = await buy(alice.auth, { productId, quantity: 1 }, 'busy-key');
  assertError(t, res, 409, 'REQUEST_IN_PROGRESS');
  t.equal(res.headers['retry-after'], '1');
  assertError(t, await buy(alice.auth, { productId, quantity: 2 }, 'busy-key'), 422, 'IDEMPOTENCY_KEY_REUSED');
  t.equal(await stockOf(productId, 5), 5);
});

t.test('Idempotency-Key: concurrent duplicates buy once', async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 50 });
  const results = await Promise.all(
    Array.from({ length: 10 }, () => buy(alice.auth, { productId, quantity: 1 }, 'double-click')),
  );
  const created = results.filter((r) => r.status === 201);
  t.ok(created.length >= 1, 'at least the first succeeds');
  t.ok(
    results.every((r) => r.status === 201 || r.body.code === 'REQUEST_IN_PROGRESS'),
    'the others are replays or in progress',
  );
  t.equal(new Set(created.map((r) => r.body.id)).size, 1, 'every 201 is the same purchase');
  t.equal(await stockOf(productId, 49), 49, 'charged once');
});

t.test('Idempotency-Key: a refused purchase frees its key for a retry', async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 0 });
  assertError(t, await buy(alice.auth, { productId, quantity: 1 }, 'restock-retry'), 409, 'OUT_OF_STOCK');
  await call(app, 'PATCH', `/api/v1/products/${productId}`, { auth: admin.auth, body: { stock: 1 } });
  const retry = await buy(alice.auth, { productId, quantity: 1 }, 'restock-retry');
  t.equal(retry.status, 201);
  t.notOk(retry.headers['idempotent-replayed']);
});

t.test('GET /purchases lists own purchases, newest first; admins see all or filter by user', async (t) => {
  const carol = await login(app, 'carol');
  const productId = await createProduct(app, admin.auth, { stock: 10 });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await buy(carol.auth, { productId, quantity: 1 })).body.id);
  await buy(bob.auth, { productId, quantity: 1 });

  const page1 = await call(app, 'GET', '/api/v1/purchases?limit=2', { auth: carol.auth });
  t.equal(page1.status, 200);
  t.same(
    page1.body.items.map((p: { id: string }) => p.id),
    [ids[2], ids[1]],
  );
  const page2 = await call(app, 'GET', `/api/v1/purchases?limit=2&cursor=${page1.body.nextCursor}`, {
    auth: carol.auth,
  });
  t.same(
    page2.body.items.map((p: { id: string }) => p.id),
    [ids[0]],
  );
  t.equal(page2.body.nextCursor, null);

  const all = await call(app, 'GET', '/api/v1/purchases?limit=100', { auth: admin.auth });
  t.ok(
    all.body.items.some((p: { userId: string }) => p.userId === bob.id) &&
      all.body.items.some((p: { userId: string }) => p.userId === carol.id),
    'admin sees everyone',
  );
  const filtered = await call(app, 'GET', `/api/v1/purchases?limit=100&userId=${carol.id}`, { auth: admin.auth });
  t.ok(
    filtered.body.items.length === 3 && filtered.body.items.every((p: { userId: string }) => p.userId === carol.id),
    'admin filter by userId',
  );
  assertError(t, await call(app, 'GET', `/api/v1/purchases?userId=${bob.id}`, { auth: carol.auth }), 403, 'FORBIDDEN');
  t.equal(
    (await call(app, 'GET', `/api/v1/purchases?userId=${carol.id}`, { auth: carol.auth })).status,
    200,
    'filtering by oneself is fine',
  );
  assertError(t, await call(app, 'GET', '/api/v1/purchases'), 401, 'UNAUTHORIZED');
});

t.test('GET /purchases/:id: owner or admin; others 403; unknown 404', async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 1 });
  const purchase = (await buy(alice.auth, { productId, quantity: 1 })).body;
  t.same((await call(app, 'GET', `/api/v1/purchases/${purchase.id}`, { auth: alice.auth })).body, purchase);
  t.equal((await call(app, 'GET', `/api/v1/purchases/${purchase.id}`, { auth: admin.auth })).status, 200);
  assertError(t, await call(app, 'GET', `/api/v1/purchases/${purchase.id}`, { auth: bob.auth }), 403, 'FORBIDDEN');
  assertError(
    t,
    await call(app, 'GET', `/api/v1/purchases/${MISSING}`, { auth: alice.auth }),
    404,
    'PURCHASE_NOT_FOUND',
  );
});

t.test('a deleted product ends its sales but keeps its purchase records', async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 3 });
  const purchase = (await buy(alice.auth, { productId, quantity: 1 })).body;
  await call(app, 'DELETE', `/api/v1/products/${productId}`, { auth: admin.auth });
  assertError(t, await buy(alice.auth, { productId, quantity: 1 }), 404, 'PRODUCT_NOT_FOUND');
  t.equal((await call(app, 'GET', `/api/v1/purchases/${purchase.id}`, { auth: alice.auth })).status, 200);
});
