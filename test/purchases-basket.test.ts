import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp, type Call } from './helpers/app.js';

// Baskets (all or nothing over every product they touch) and cancellations (stock back, once), on a real topology.
const topo = await startTestTopology(t);
const env = { RATE_LIMIT_MAX: '1000000', LOGIN_RATE_LIMIT_MAX: '1000' };
const a = await startApp(t, topo, env);
const b = await startApp(t, topo, env);
const admin = await loginAdmin(a);
const buyer = await login(a, 'basket-buyer');
const other = await login(a, 'basket-other');
const { master, keys } = a.redis;

const stockOf = async (id: string) => Number(await master.hget(keys.product(id), 'stock'));
/** A counter's value on one instance's /metrics (0 before its first increment). */
async function counter(app: typeof a, name: string): Promise<number> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}
const buy = (auth: { authorization: string }, body: unknown, key?: string, app = a) =>
  call(app, 'POST', '/api/v1/purchases', { auth, body, ...(key ? { headers: { 'idempotency-key': key } } : {}) });

t.test('a basket is bought whole: every line, its prices and total, in one purchase', async (t) => {
  const p1 = await createProduct(a, admin.auth, { stock: 10, priceCents: 100 });
  const p2 = await createProduct(a, admin.auth, { stock: 5, priceCents: 250 });
  const res = await buy(buyer.auth, {
    items: [
      { productId: p1, quantity: 2 },
      { productId: p2, quantity: 3 },
    ],
  });
  t.equal(res.status, 201);
  t.same(res.body.items, [
    { productId: p1, quantity: 2, unitPriceCents: 100, totalCents: 200 },
    { productId: p2, quantity: 3, unitPriceCents: 250, totalCents: 750 },
  ]);
  t.equal(res.body.totalCents, 950);
  t.equal(res.body.status, 'completed');
  t.notOk('productId' in res.body, 'a basket of several lines has no top-level line');
  t.same([await stockOf(p1), await stockOf(p2)], [8, 2]);
  t.same((await call(a, 'GET', `/api/v1/purchases/${res.body.id}`, { auth: buyer.auth })).body, res.body, 'reads back');

  const single = await buy(buyer.auth, { productId: p1, quantity: 1 });
  t.match(single.body, { productId: p1, quantity: 1, unitPriceCents: 100, totalCents: 100, status: 'completed' });
  t.equal(single.body.items.length, 1, 'the single-product body still works, and shows its line in items too');
});

t.test(
  'every purchase is stored as a compact listpack: one line, and 50 lines at the highest price, cancelled',
  async (t) => {
    const encoding = (id: string) => master.object('ENCODING', keys.purchase(id));
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      ids.push(await createProduct(a, admin.auth, { stock: 1000, priceCents: i === 0 ? 1_000_000_000_000 : 1 }));
    }
    const single = await buy(buyer.auth, { productId: ids[1]!, quantity: 1 });
    t.equal(await encoding(single.body.id), 'listpack');
    const basket = await buy(buyer.auth, {
      items: ids.map((productId, i) => ({ productId, quantity: i === 0 ? 951 : 1 })),
    });
    t.equal(basket.status, 201);
    t.equal(basket.body.items.length, 50);
    t.equal(basket.body.totalCents, 951_000_000_000_000 + 49);
    t.equal(await encoding(basket.body.id), 'listpack', 'a basket of the most lines, its longest values included');
    const cancelled = await call(a, 'POST', `/api/v1/purchases/${basket.body.id}/cancel`, { auth: buyer.auth });
    t.equal(cancelled.status, 200);
    t.equal(await encoding(basket.body.id), 'listpack', 'and cancelled');
    const read = await call(b, 'GET', `/api/v1/purchases/${basket.body.id}`, { auth: buyer.auth });
    t.same(read.body, cancelled.body, 'reads back line for line');
  },
);

t.test('a line short of stock: 409 OUT_OF_STOCK naming it, and nothing written', async (t) => {
  const p1 = await createProduct(a, admin.auth, { stock: 10 });
  const p2 = await createProduct(a, admin.auth, { stock: 1 });
  const before = await master.zcard(keys.userPurchases(buyer.id));
  const res = await buy(buyer.auth, {
    items: [
      { productId: p1, quantity: 2 },
      { productId: p2, quantity: 3 },
    ],
  });
  assertError(t, res, 409, 'OUT_OF_STOCK');
  t.same(res.body.details, [{ productId: p2, requested: 3, available: 1 }]);
  t.same([await stockOf(p1), await stockOf(p2)], [10, 1], 'no stock taken');
  t.equal(await master.zcard(keys.userPurchases(buyer.id)), before, 'no purchase written');
});

t.test('bad baskets are 400 and change nothing', async (t) => {
  const p1 = await createProduct(a, admin.auth, { stock: 2000 });
  const bad: unknown[] = [
    { items: [] },
    { items: Array.from({ length: 51 }, () => ({ productId: p1, quantity: 1 })) },
    {
      items: [
        { productId: p1, quantity: 1 },
        { productId: p1, quantity: 2 },
      ],
    },
    { items: [{ productId: p1, quantity: 0 }] },
    {
      items: [
        { productId: p1, quantity: 600 },
        { productId: 'another', quantity: 600 },
      ],
    },
    { items: [{ productId: p1, quantity: 1 }], productId: p1 },
  ];
  for (const body of bad) assertError(t, await buy(buyer.auth, body), 400, 'VALIDATION_ERROR');
  t.equal(await stockOf(p1), 2000);
});

t.test(
  'a basket with an Idempotency-Key replays through the other instance; a one-line basket is the single body',
  async (t) => {
    const p1 = await createProduct(a, admin.auth, { stock: 10 });
    const p2 = await createProduct(a, admin.auth, { stock: 10 });
    const basket = {
      items: [
        { productId: p1, quantity: 1 },
        { productId: p2, quantity: 1 },
      ],
    };
    const first = await buy(buyer.auth, basket, 'basket-key-1');
    const again = await buy(buyer.auth, basket, 'basket-key-1', b);
    t.equal(again.status, 201);
    t.equal(again.body.id, first.body.id);
    t.equal(again.headers['idempotent-replayed'], 'true');
    assertError(
      t,
      await buy(buyer.auth, { items: [{ productId: p1, quantity: 2 }] }, 'basket-key-1'),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    const one = await buy(buyer.auth, { productId: p1, quantity: 1 }, 'basket-key-2');
    const sameAsOne = await buy(buyer.auth, { items: [{ productId: p1, quantity: 1 }] }, 'basket-key-2');
    t.equal(sameAsOne.body.id, one.body.id, 'the same request, whichever body shape');
    t.same([await stockOf(p1), await stockOf(p2)], [8, 9]);
  },
);

t.test('a purchase stored before baskets reads back in the new shape', async (t) => {
  const id = '01900000-0000-7000-8000-000000000001';
  await master.hset(keys.purchase(id), {
    id,
    userId: buyer.id,
    productId: 'old-product',
    quantity: '2',
    unitPriceCents: '300',
    totalCents: '600',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
  const res = await call(a, 'GET', `/api/v1/purchases/${id}`, { auth: buyer.auth });
  t.same(res.body, {
    id,
    userId: buyer.id,
    productId: 'old-product',
    quantity: 2,
    unitPriceCents: 300,
    items: [{ productId: 'old-product', quantity: 2, unitPriceCents: 300, totalCents: 600 }],
    totalCents: 600,
    status: 'completed',
    createdAt: '2026-01-01T00:00:00.000Z',
  });
});

t.test('a cancellation gives every line back once; a repeat answers the same and gives nothing', async (t) => {
  const p1 = await createProduct(a, admin.auth, { stock: 10 });
  const p2 = await createProduct(a, admin.auth, { stock: 10 });
  const bought = await buy(buyer.auth, {
    items: [
      { productId: p1, quantity: 3 },
      { productId: p2, quantity: 4 },
    ],
  });
  const cancel = (auth = buyer.auth, app = a) =>
    call(app, 'POST', `/api/v1/purchases/${bought.body.id}/cancel`, { auth });
  assertError(t, await cancel(other.auth), 403, 'FORBIDDEN');
  const counters = async () =>
    Promise.all(
      [a, b].flatMap((app) => [
        counter(app, 'evergreen_cancellations_total'),
        counter(app, 'evergreen_refunded_cents_total'),
      ]),
    );
  const before = await counters();
  const res = await cancel();
  t.equal(res.status, 200);
  t.equal(res.body.status, 'cancelled');
  t.ok(res.body.cancelledAt);
  t.same([await stockOf(p1), await stockOf(p2)], [10, 10], 'stock back');
  const again = await cancel(buyer.auth, b);
  t.same(again.body, res.body, 'the same cancelled purchase');
  t.same([await stockOf(p1), await stockOf(p2)], [10, 10], 'nothing given back twice');
  assertError(
    t,
    await call(a, 'POST', `/api/v1/purchases/01900000-0000-7000-8000-00000000ffff/cancel`, { auth: buyer.auth }),
    404,
    'PURCHASE_NOT_FOUND',
  );
  const [cancelledA, refundedA, ...onB] = await counters();
  t.equal(cancelledA, before[0]! + 1, 'one cancellation counted, where it was made');
  t.equal(refundedA, before[1]! + bought.body.totalCents, 'the whole total refunded');
  t.same(onB, before.slice(2), 'the repeat on the other instance counts nothing');
});

t.test("a cancelled purchase's Idempotency-Key replays it cancelled and never buys again", async (t) => {
  const p1 = await createProduct(a, admin.auth, { stock: 4 });
  const first = await buy(buyer.auth, { productId: p1, quantity: 3 }, 'cancel-then-retry');
  t.equal((await call(a, 'POST', `/api/v1/purchases/${first.body.id}/cancel`, { auth: buyer.auth })).status, 200);
  const retry = await buy(buyer.auth, { productId: p1, quantity: 3 }, 'cancel-then-retry', b);
  t.equal(retry.status, 201);
  t.equal(retry.headers['idempotent-replayed'], 'true');
  t.match(retry.body, { id: first.body.id, status: 'cancelled' });
  t.equal(await stockOf(p1), 4, 'the stock the cancellation gave back is still there');
});

t.test('past the window the owner gets 409 CANCEL_WINDOW_CLOSED; an admin may still cancel', async (t) => {
  const strict = await startApp(t, topo, { ...env, CANCEL_WINDOW_SECONDS: '1' });
  const p1 = await createProduct(a, admin.auth, { stock: 5 });
  const bought = await buy(buyer.auth, { productId: p1, quantity: 2 });
  await sleep(1200);
  const url = `/api/v1/purchases/${bought.body.id}/cancel`;
  assertError(t, await call(strict, 'POST', url, { auth: buyer.auth }), 409, 'CANCEL_WINDOW_CLOSED');
  t.equal(await stockOf(p1), 3);
  t.equal((await call(strict, 'POST', url, { auth: admin.auth })).status, 200);
  t.equal(await stockOf(p1), 5);
});

t.test(
  'a basket that sells a product out takes it out of the in-stock index; its cancellation puts it back',
  async (t) => {
    const p1 = await createProduct(a, admin.auth, { stock: 2 });
    const p2 = await createProduct(a, admin.auth, { stock: 5 });
    const inStock = async (id: string) => (await master.zscore(keys.productsInStock(), id)) !== null;
    t.same([await inStock(p1), await inStock(p2)], [true, true]);
    const bought = await buy(buyer.auth, {
      items: [
        { productId: p1, quantity: 2 },
        { productId: p2, quantity: 1 },
      ],
    });
    t.same([await inStock(p1), await inStock(p2)], [false, true], 'sold out: out of the index, in the same EXEC');
    t.equal((await call(a, 'POST', `/api/v1/purchases/${bought.body.id}/cancel`, { auth: buyer.auth })).status, 200);
    t.same([await inStock(p1), await inStock(p2)], [true, true], 'back in stock: back in the index');
  },
);

t.test('a line of a product deleted since gives nothing back, and leaves no stray hash', async (t) => {
  const p1 = await createProduct(a, admin.auth, { stock: 5 });
  const p2 = await createProduct(a, admin.auth, { stock: 5 });
  const bought = await buy(buyer.auth, {
    items: [
      { productId: p1, quantity: 1 },
      { productId: p2, quantity: 1 },
    ],
  });
  t.equal((await call(a, 'DELETE', `/api/v1/products/${p2}`, { auth: admin.auth })).status, 204);
  t.equal((await call(a, 'POST', `/api/v1/purchases/${bought.body.id}/cancel`, { auth: buyer.auth })).status, 200);
  t.equal(await stockOf(p1), 5);
  t.equal(await master.exists(keys.product(p2)), 0);
});

t.test(
  'overlapping baskets over scarce products through both instances: every basket whole or not at all',
  async (t) => {
    const initial = 30;
    const products = await Promise.all([0, 1, 2, 3].map(() => createProduct(a, admin.auth, { stock: initial })));
    const buyers = await Promise.all(Array.from({ length: 40 }, (_, i) => login(i % 2 ? b : a, `overlap-${i}`)));
    const baskets = buyers.map((_, i) => [products[i % 4]!, products[(i + 1) % 4]!, products[(i + 2) % 4]!]);
    const results: Call[] = await Promise.all(
      buyers.map((u, i) =>
        buy(
          u.auth,
          { items: baskets[i]!.map((productId, j) => ({ productId, quantity: 1 + ((i + j) % 3) })) },
          undefined,
          i % 2 ? b : a,
        ),
      ),
    );
    const statuses = new Set(results.map((r) => r.status));
    t.ok(
      [...statuses].every((s) => s === 201 || s === 409 || s === 503),
      `only 201, 409, 503: ${[...statuses]}`,
    );
    const sold = new Map<string, number>();
    for (const r of results.filter((r) => r.status === 201)) {
      for (const item of r.body.items as { productId: string; quantity: number }[]) {
        sold.set(item.productId, (sold.get(item.productId) ?? 0) + item.quantity);
      }
    }
    for (const id of products) {
      const stock = await stockOf(id);
      t.ok(stock >= 0, 'never below zero');
      t.equal(stock + (sold.get(id) ?? 0), initial, 'stock + units sold == initial');
    }
    t.ok(results.some((r) => r.status === 201) && results.some((r) => r.status === 409), 'some sold, some refused');
  },
);

t.test('a cancellation racing a purchase of the last units, and two cancellations racing, stay exact', async (t) => {
  const p1 = await createProduct(a, admin.auth, { stock: 2 });
  const bought = await buy(buyer.auth, { productId: p1, quantity: 2 });
  const url = `/api/v1/purchases/${bought.body.id}/cancel`;
  const [c1, c2, p] = await Promise.all([
    call(a, 'POST', url, { auth: buyer.auth }),
    call(b, 'POST', url, { auth: buyer.auth }),
    buy(other.auth, { productId: p1, quantity: 2 }, undefined, b),
  ]);
  t.same([c1.status, c2.status], [200, 200]);
  t.equal(c1.body.cancelledAt, c2.body.cancelledAt, 'one cancellation, answered twice');
  const stock = await stockOf(p1);
  t.equal(stock, p.status === 201 ? 0 : 2, `stock exact whichever came first (purchase ${p.status})`);
});
