import t from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';
import { eventually } from './helpers/fixtures.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo);
const admin = await loginAdmin(app);
const customer = await login(app, 'shopper');
const MISSING = '00000000-0000-7000-8000-000000000000';

t.test('POST /products (admin) creates a product', async (t) => {
  const res = await call(app, 'POST', '/api/v1/products', {
    auth: admin.auth,
    body: { name: 'Kettle', description: 'Boils water', priceCents: 2599, stock: 7 },
  });
  t.equal(res.status, 201);
  t.match(res.body, {
    id: String,
    name: 'Kettle',
    description: 'Boils water',
    priceCents: 2599,
    stock: 7,
    createdAt: String,
    updatedAt: String,
  });
  t.equal(res.headers.location, `/api/v1/products/${res.body.id}`);
  const got = await call(app, 'GET', `/api/v1/products/${res.body.id}`);
  t.same(got.body, res.body, 'anyone can read it back');
});

t.test('POST /products: 401 anonymous, 403 customer, 400 invalid — and nothing is created', async (t) => {
  const before = await call(app, 'GET', '/api/v1/products?limit=100');
  const body = { name: 'Teapot', priceCents: 100, stock: 1 };
  assertError(t, await call(app, 'POST', '/api/v1/products', { body }), 401, 'UNAUTHORIZED');
  assertError(t, await call(app, 'POST', '/api/v1/products', { auth: customer.auth, body }), 403, 'FORBIDDEN');
  const invalid = [
    { name: 'Teapot', priceCents: 9.99, stock: 1 },
    { name: 'Teapot', priceCents: '999', stock: 1 },
    { name: 'Teapot', priceCents: -1, stock: 1 },
    { name: 'Teapot', priceCents: 100, stock: -5 },
    { name: '', priceCents: 100, stock: 1 },
    { name: 'Teapot', priceCents: 100 },
    { name: 'Teapot', priceCents: 100, stock: 1, id: 'chosen-id' },
    { name: 'Teapot', priceCents: 100, stock: 1, createdAt: '2020-01-01T00:00:00Z' },
  ];
  for (const bad of invalid)
    assertError(
      t,
      await call(app, 'POST', '/api/v1/products', { auth: admin.auth, body: bad }),
      400,
      'VALIDATION_ERROR',
    );
  const after = await call(app, 'GET', '/api/v1/products?limit=100');
  t.equal(after.body.items.length, before.body.items.length, 'no product was created');
});

t.test('GET /products pages through the catalog in creation order', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push(await createProduct(app, admin.auth, { name: `Page item ${i}`, stock: 1 }));
  const listed = (page: { body: { items: { id: string }[] } }) =>
    ids.every((id) => page.body.items.some((p) => p.id === id));
  await eventually(() => call(app, 'GET', '/api/v1/products?limit=100'), listed);
  const seen: string[] = [];
  let url = '/api/v1/products?limit=2';
  for (;;) {
    const page = await call(app, 'GET', url);
    t.equal(page.status, 200);
    t.ok(page.body.items.length <= 2);
    seen.push(...page.body.items.map((p: { id: string }) => p.id));
    if (!page.body.nextCursor) break;
    url = `/api/v1/products?limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`;
  }
  t.same(seen.slice(-5), ids, 'the new products come last, in order, each once');
  t.equal(new Set(seen).size, seen.length);
});

t.test('GET /products: bad paging is 400', async (t) => {
  assertError(t, await call(app, 'GET', '/api/v1/products?limit=0'), 400, 'VALIDATION_ERROR');
  assertError(t, await call(app, 'GET', '/api/v1/products?limit=1000'), 400, 'VALIDATION_ERROR');
  assertError(t, await call(app, 'GET', '/api/v1/products?limit=abc'), 400, 'VALIDATION_ERROR');
  assertError(t, await call(app, 'GET', '/api/v1/products?cursor=%21%21'), 400, 'INVALID_CURSOR');
  assertError(t, await call(app, 'GET', '/api/v1/products?sort=cheapest'), 400, 'VALIDATION_ERROR');
});

t.test('GET /products/:id of an unknown product is 404 PRODUCT_NOT_FOUND', async (t) => {
  assertError(t, await call(app, 'GET', `/api/v1/products/${MISSING}`), 404, 'PRODUCT_NOT_FOUND');
});

t.test('PATCH /products/:id (admin) changes only the given fields', async (t) => {
  const id = await createProduct(app, admin.auth, { name: 'Lamp', priceCents: 1500, stock: 3 });
  const res = await call(app, 'PATCH', `/api/v1/products/${id}`, {
    auth: admin.auth,
    body: { priceCents: 1700, description: 'Bright' },
  });
  t.equal(res.status, 200);
  t.match(res.body, { id, name: 'Lamp', priceCents: 1700, stock: 3, description: 'Bright' });
  t.ok(res.body.updatedAt >= res.body.createdAt);
  assertError(
    t,
    await call(app, 'PATCH', `/api/v1/products/${id}`, { auth: customer.auth, body: { priceCents: 1 } }),
    403,
    'FORBIDDEN',
  );
  assertError(
    t,
    await call(app, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body: { priceCents: 1.5 } }),
    400,
    'VALIDATION_ERROR',
  );
  assertError(
    t,
    await call(app, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body: {} }),
    400,
    'VALIDATION_ERROR',
  );
  assertError(
    t,
    await call(app, 'PATCH', `/api/v1/products/${MISSING}`, { auth: admin.auth, body: { stock: 1 } }),
    404,
    'PRODUCT_NOT_FOUND',
  );
  assertError(t, await call(app, 'GET', `/api/v1/products/${MISSING}`), 404, 'PRODUCT_NOT_FOUND');
  const settled = await eventually(
    () => call(app, 'GET', `/api/v1/products/${id}`),
    (res) => res.body.priceCents === 1700,
  );
  t.match(settled.body, { priceCents: 1700 }, 'refused patches changed nothing');
});

t.test('DELETE /products/:id (admin) removes it from reads and the list', async (t) => {
  const id = await createProduct(app, admin.auth, { name: 'Doomed', stock: 1 });
  assertError(t, await call(app, 'DELETE', `/api/v1/products/${id}`, { auth: customer.auth }), 403, 'FORBIDDEN');
  t.equal((await call(app, 'DELETE', `/api/v1/products/${id}`, { auth: admin.auth })).status, 204);
  assertError(
    t,
    await eventually(
      () => call(app, 'GET', `/api/v1/products/${id}`),
      (res) => res.status === 404,
    ),
    404,
    'PRODUCT_NOT_FOUND',
  );
  const list = await eventually(
    () => call(app, 'GET', '/api/v1/products?limit=100'),
    (res) => !res.body.items.some((p: { id: string }) => p.id === id),
  );
  t.notOk(list.body.items.some((p: { id: string }) => p.id === id));
  assertError(t, await call(app, 'DELETE', `/api/v1/products/${id}`, { auth: admin.auth }), 404, 'PRODUCT_NOT_FOUND');
});
