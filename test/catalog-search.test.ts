import t from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, loginAdmin, startApp } from './helpers/app.js';
import { eventually } from './helpers/fixtures.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo);
const admin = await loginAdmin(app);
const redis = app.redis.master;
const keys = app.redis.keys;

interface Item {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
}
type Params = Record<string, string | number>;

const url = (params: Params) =>
  `/api/v1/products?${new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))}`;

/** Every page of a search, following nextCursor; the pages too (to look at their sizes). */
async function searchAll(params: Params): Promise<{ items: Item[]; pages: number[] }> {
  const items: Item[] = [];
  const pages: number[] = [];
  let cursor: string | undefined;
  for (;;) {
    const res = await call(app, 'GET', url({ ...params, ...(cursor ? { cursor } : {}) }));
    if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    pages.push(res.body.items.length);
    if (!res.body.nextCursor) return { items, pages };
    cursor = res.body.nextCursor;
  }
}

/** Reads go to replicas: the search once it sees `n` matches. */
const settled = (params: Params, n: number) =>
  eventually(
    () => searchAll(params),
    (r) => r.items.length === n,
  ).then((r) => r.items);

const names = (items: Item[]) => items.map((p) => p.name);

// One family of products per test, told apart by a word of their own.
const made: Record<string, Item> = {};
for (const [name, priceCents, stock] of [
  ['Blue Kettle Alpha', 2599, 3],
  ['Kettlebell alpha', 4000, 0],
  ['Red Teapot Alpha', 1500, 1],
  ['blue steel alpha', 999, 5],
  ['Électrique Alpha', 1500, 2],
] as const) {
  made[name] = { id: await createProduct(app, admin.auth, { name, priceCents, stock }), name, priceCents, stock };
}

t.test('q matches the start of any word of the name, case-insensitively, newest first', async (t) => {
  t.same(names(await settled({ q: 'alpha' }, 5)), Object.keys(made).reverse());
  t.same(names(await settled({ q: 'KETT' }, 2)), ['Kettlebell alpha', 'Blue Kettle Alpha']);
  t.same(names(await settled({ q: 'blue', limit: 1 }, 2)), ['blue steel alpha', 'Blue Kettle Alpha']);
  t.same(names(await settled({ q: 'steel al' }, 1)), ['blue steel alpha'], 'several words: a phrase');
  t.same(names(await settled({ q: 'élec' }, 1)), ['Électrique Alpha']);
  t.same(await settled({ q: 'ettle' }, 0), [], 'not inside a word');
});

t.test('price bounds, inStock and each sort, alone and combined, across pages', async (t) => {
  const byPrice = ['blue steel alpha', 'Red Teapot Alpha', 'Électrique Alpha', 'Blue Kettle Alpha', 'Kettlebell alpha'];
  t.same(names(await settled({ q: 'alpha', sort: 'price', limit: 2 }, 5)), byPrice);
  t.same(names(await settled({ q: 'alpha', sort: '-price', limit: 2 }, 5)), [...byPrice].reverse());
  const byName = ['blue kettle alpha', 'blue steel alpha', 'kettlebell alpha', 'red teapot alpha', 'électrique alpha'];
  t.same(
    names(await settled({ q: 'alpha', sort: 'name', limit: 2 }, 5)).map((n) => n.toLowerCase()),
    byName,
  );
  t.same(names(await settled({ q: 'alpha', minPriceCents: 1500, maxPriceCents: 2599, sort: 'price' }, 3)), [
    'Red Teapot Alpha',
    'Électrique Alpha',
    'Blue Kettle Alpha',
  ]);
  t.same(names(await settled({ q: 'alpha', inStock: 'true', limit: 1 }, 4)), [
    'Électrique Alpha',
    'blue steel alpha',
    'Red Teapot Alpha',
    'Blue Kettle Alpha',
  ]);
  t.same(names(await settled({ q: 'kettle', inStock: 'true', sort: '-price' }, 1)), ['Blue Kettle Alpha']);
  // Without q: the price, name and in-stock indexes drive; the whole catalog, each product once.
  for (const sort of ['price', '-price', 'name', 'newest']) {
    const { items } = await searchAll({ sort, inStock: 'true', limit: 3 });
    t.equal(new Set(items.map((p) => p.id)).size, items.length, `${sort}: each once`);
    t.ok(items.every((p) => p.stock > 0));
    const alphas = names(items.filter((p) => p.name.toLowerCase().includes('alpha')));
    t.equal(alphas.length, 4, `${sort}: every match`);
  }
  const cheap = await searchAll({ maxPriceCents: 1500, sort: 'price' });
  t.ok(cheap.items.every((p, i, all) => p.priceCents <= 1500 && (i === 0 || all[i - 1]!.priceCents <= p.priceCents)));
});

t.test('a cursor is bound to its query: a foreign one is 400 INVALID_CURSOR', async (t) => {
  const page = await call(app, 'GET', url({ q: 'alpha', limit: 1 }));
  const searchCursor = page.body.nextCursor as string;
  const plain = await call(app, 'GET', url({ limit: 1 }));
  const plainCursor = plain.body.nextCursor as string;
  t.equal((await call(app, 'GET', url({ q: 'Alpha', limit: 3, cursor: searchCursor }))).status, 200, 'same search');
  assertError(t, await call(app, 'GET', url({ q: 'kettle', cursor: searchCursor })), 400, 'INVALID_CURSOR');
  assertError(
    t,
    await call(app, 'GET', url({ q: 'alpha', sort: 'name', cursor: searchCursor })),
    400,
    'INVALID_CURSOR',
  );
  assertError(t, await call(app, 'GET', url({ cursor: searchCursor })), 400, 'INVALID_CURSOR');
  assertError(t, await call(app, 'GET', url({ q: 'alpha', cursor: plainCursor })), 400, 'INVALID_CURSOR');
  // sort=newest lists newest first: not the plain list, which lists oldest first.
  assertError(t, await call(app, 'GET', url({ sort: 'newest', cursor: plainCursor })), 400, 'INVALID_CURSOR');
  const newest = await call(app, 'GET', url({ sort: 'newest', limit: 1 }));
  t.equal(newest.body.items[0]?.id, made['Électrique Alpha']!.id, 'sort=newest starts at the last product made');
});

t.test('bad search parameters are 400 VALIDATION_ERROR', async (t) => {
  const invalid: Params[] = [
    { q: '' },
    { q: 'x'.repeat(101) },
    { q: '--' },
    { minPriceCents: -1 },
    { maxPriceCents: 1.5 },
    { minPriceCents: 'cheap' },
    { minPriceCents: 10, maxPriceCents: 9 },
    { inStock: 'yes' },
    { sort: 'cheapest' },
    { colour: 'blue' },
  ];
  for (const bad of invalid) {
    assertError(t, await call(app, 'GET', url(bad)), 400, 'VALIDATION_ERROR');
  }
});

t.test('the indexes follow a rename, a price change, stock reaching 0 and a deletion', async (t) => {
  const id = await createProduct(app, admin.auth, { name: 'Gamma Lantern', priceCents: 700, stock: 1 });
  await settled({ q: 'lantern', inStock: 'true' }, 1);
  const patch = (body: object) => call(app, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body });
  t.equal((await patch({ name: 'Gamma Torch', priceCents: 900 })).status, 200);
  await settled({ q: 'lantern' }, 0);
  t.same(names(await settled({ q: 'torch', minPriceCents: 900, maxPriceCents: 900 }, 1)), ['Gamma Torch']);
  await settled({ q: 'gamma', maxPriceCents: 899 }, 0);
  t.equal(await redis.zscore(keys.productsByName(), `gamma lantern\u0000${id}`), null, 'old name entry gone');
  t.equal((await patch({ stock: 0 })).status, 200);
  await settled({ q: 'torch', inStock: 'true' }, 0);
  t.equal(await redis.zscore(keys.productsInStock(), id), null, 'no in-stock entry');
  t.equal((await patch({ stock: 4 })).status, 200);
  await settled({ q: 'torch', inStock: 'true' }, 1);
  t.equal((await call(app, 'DELETE', `/api/v1/products/${id}`, { auth: admin.auth })).status, 204);
  await settled({ q: 'torch' }, 0);
  for (const key of [keys.productsByName(), keys.productsByPrice(), keys.productWords()]) {
    const left = await redis.zrange(key, '-', '+', 'BYLEX');
    t.notOk(
      left.some((m) => m.endsWith(id)),
      `${key}: no entry left`,
    );
  }
});

t.test('a rare match in a large range: pages stay bounded, and every match comes exactly once', async (t) => {
  const fillers = Array.from({ length: 300 }, (_, i) => ({ name: `Common filler ${i}`, priceCents: 100, stock: 0 }));
  for (let i = 0; i < fillers.length; i += 25) {
    await Promise.all(fillers.slice(i, i + 25).map((f) => createProduct(app, admin.auth, f)));
  }
  await createProduct(app, admin.auth, { name: 'Common needle', priceCents: 100, stock: 1 });
  const params = { q: 'common', minPriceCents: 100, maxPriceCents: 100, inStock: 'true', sort: 'name', limit: 5 };
  const found = await eventually(
    () => searchAll(params),
    (r) => r.items.length === 1,
  );
  t.same(names(found.items), ['Common needle']);
  t.ok(found.pages.length > 1, 'more than one request: each one examined a bounded part of the index');
});

t.test('the backfill at start indexes products written before the indexes existed, in the background', async (t) => {
  const id = '01900000-0000-7000-8000-0000000000aa';
  const now = new Date().toISOString();
  await redis
    .multi()
    .hset(keys.product(id), { id, name: 'Legacy Zither', description: '', priceCents: 4200, stock: 2 })
    .hset(keys.product(id), { createdAt: now, updatedAt: now })
    .zadd(keys.productIndex(), 0, id)
    .del(keys.catalogIndexVersion())
    .exec();
  t.same(await call(app, 'GET', url({ q: 'zither' })).then((r) => r.body.items), [], 'not indexed yet');
  const restarted = await startApp(t, topo);
  t.equal((await call(restarted, 'GET', '/health/ready')).status, 200, 'ready at once: it backfills in the background');
  const marker = await eventually(
    () => redis.get(keys.catalogIndexVersion()),
    (version) => version === '1',
  );
  t.equal(marker, '1', 'the marker says it is done');
  const found = await eventually(
    () => call(restarted, 'GET', url({ q: 'zither', inStock: 'true', sort: 'price' })),
    (r) => r.body.items.length === 1,
  );
  t.match(found.body.items, [{ id, name: 'Legacy Zither', priceCents: 4200 }]);
  t.equal(await restarted.stores.products.backfillIndex(), 0, 'a second run is skipped');
});

t.test('a backfill stopped between batches sets no marker, and the next one goes on', async (t) => {
  const ids = Array.from({ length: 150 }, (_, i) => `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`);
  const now = new Date().toISOString();
  const tx = redis.multi().del(keys.catalogIndexVersion());
  for (const id of ids) {
    tx.hset(keys.product(id), { id, name: `Backlog Oboe ${id}`, description: '', priceCents: 10, stock: 1 });
    tx.hset(keys.product(id), { createdAt: now, updatedAt: now }).zadd(keys.productIndex(), 0, id);
  }
  await tx.exec();
  const indexed = async () => (await redis.zrangebylex(keys.productWords(), '[oboe', '[oboe\xff')).length;
  let batches = 0;
  await app.stores.products.backfillIndex(() => batches++ > 0);
  t.equal(await redis.get(keys.catalogIndexVersion()), null, 'stopped: no marker');
  t.ok((await indexed()) > 0 && (await indexed()) < ids.length, 'one batch done, not all');
  t.ok((await app.stores.products.backfillIndex()) >= ids.length, 'the next run goes on');
  t.equal(await indexed(), ids.length, 'every product indexed');
  t.equal(await redis.get(keys.catalogIndexVersion()), '1');
});
