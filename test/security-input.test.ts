import t from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';
import { MAX_CENTS } from '../src/schemas/common.js';
import { MAX_QUANTITY } from '../src/schemas/purchases.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo, { BODY_LIMIT_BYTES: '16384' });
const admin = await loginAdmin(app);
const alice = await login(app, 'alice');
const { master, keys } = app.redis;
const json = { 'content-type': 'application/json' };

t.test('money: the largest price times the largest quantity is still an exact integer', async (t) => {
  t.equal(MAX_CENTS, 1_000_000_000_000);
  t.equal(MAX_QUANTITY, 1000);
  t.ok(Number.isSafeInteger(MAX_CENTS * MAX_QUANTITY), `${MAX_CENTS * MAX_QUANTITY} < 2^53`);
});

t.test('prices: the maximum passes, one cent more is refused on create and on update', async (t) => {
  const id = await createProduct(app, admin.auth, { priceCents: MAX_CENTS, stock: 1 });
  t.equal(await master.hget(keys.product(id), 'priceCents'), String(MAX_CENTS));
  for (const priceCents of [MAX_CENTS + 1, 2 ** 53, 2 ** 53 + 2, 1e300, -1]) {
    assertError(
      t,
      await call(app, 'POST', '/api/v1/products', { auth: admin.auth, body: { name: 'Big', priceCents, stock: 1 } }),
      400,
      'VALIDATION_ERROR',
    );
    assertError(
      t,
      await call(app, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body: { priceCents } }),
      400,
      'VALIDATION_ERROR',
    );
  }
  t.equal(await master.hget(keys.product(id), 'priceCents'), String(MAX_CENTS), 'the price did not change');
});

t.test('stock: at most 10^9, and never negative', async (t) => {
  const id = await createProduct(app, admin.auth, { stock: 1_000_000_000 });
  for (const stock of [1_000_000_001, -1, 1.5]) {
    assertError(
      t,
      await call(app, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body: { stock } }),
      400,
      'VALIDATION_ERROR',
    );
  }
  t.equal(await master.hget(keys.product(id), 'stock'), '1000000000');
});

t.test('a purchase of the most units at the highest price is charged exactly', async (t) => {
  const productId = await createProduct(app, admin.auth, { priceCents: MAX_CENTS, stock: MAX_QUANTITY + 5 });
  for (const quantity of [MAX_QUANTITY + 1, 2 ** 53, 0, -1]) {
    assertError(
      t,
      await call(app, 'POST', '/api/v1/purchases', { auth: alice.auth, body: { productId, quantity } }),
      400,
      'VALIDATION_ERROR',
    );
  }
  t.equal(await master.hget(keys.product(productId), 'stock'), String(MAX_QUANTITY + 5), 'nothing taken');
  const res = await call(app, 'POST', '/api/v1/purchases', {
    auth: alice.auth,
    body: { productId, quantity: MAX_QUANTITY },
  });
  t.equal(res.status, 201);
  t.equal(res.body.totalCents, 1_000_000_000_000_000, 'MAX_CENTS x MAX_QUANTITY, exactly');
  t.equal(await master.hget(keys.purchase(res.body.id), 'totalCents'), '1000000000000000', 'stored exactly');
  t.equal(await master.hget(keys.product(productId), 'stock'), '5');
});

t.test('strings: each at its maximum passes, one more is refused', async (t) => {
  const cases: [string, string, (n: number) => object, number][] = [
    ['POST', '/api/v1/products', (n) => ({ name: 'n'.repeat(n), priceCents: 1, stock: 1 }), 200],
    ['POST', '/api/v1/products', (n) => ({ name: 'd', description: 'd'.repeat(n), priceCents: 1, stock: 1 }), 2000],
    ['POST', '/api/v1/auth/register', (n) => ({ username: 'u'.repeat(n), password: 'correct-horse-9' }), 32],
    [
      'POST',
      '/api/v1/auth/register',
      // A 64-character local part (the most), then labels of 63 (the most) up to the length wanted.
      (n) => ({
        username: 'mailer',
        password: 'correct-horse-9',
        email: `${'e'.repeat(64)}@${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(n - 197)}.com`,
      }),
      254,
    ],
  ];
  for (const [method, url, body, max] of cases) {
    const over = await call(app, method as 'POST', url, { auth: admin.auth, body: body(max + 1) });
    assertError(t, over, 400, 'VALIDATION_ERROR');
    t.not((await call(app, method as 'POST', url, { auth: admin.auth, body: body(max) })).status, 400, `${max} fits`);
  }
});

t.test('pages: limit 1 to 100, a bounded cursor (1,200 characters for products), each parameter once', async (t) => {
  t.equal((await call(app, 'GET', '/api/v1/products?limit=100')).status, 200);
  for (const query of [
    'limit=101',
    'limit=-1',
    'limit=1e3',
    `cursor=${'c'.repeat(1201)}`,
    'limit=1&limit=2',
    'cursor=a&cursor=b',
    'limit[]=1',
    '__proto__=1',
    'constructor[prototype][x]=1',
  ]) {
    assertError(t, await call(app, 'GET', `/api/v1/products?${query}`), 400, 'VALIDATION_ERROR');
  }
  // A purchase page's cursor is an id: 200 characters at most.
  assertError(
    t,
    await call(app, 'GET', `/api/v1/purchases?cursor=${'c'.repeat(201)}`, { auth: admin.auth }),
    400,
    'VALIDATION_ERROR',
  );
  assertError(
    t,
    await call(app, 'GET', `/api/v1/purchases?userId=${alice.id}&userId=${admin.id}`, { auth: admin.auth }),
    400,
    'VALIDATION_ERROR',
  );
});

t.test('a body past BODY_LIMIT_BYTES is 413 PAYLOAD_TOO_LARGE', async (t) => {
  const body = JSON.stringify({ username: 'big', password: 'p'.repeat(17_000) });
  const res = await call(app, 'POST', '/api/v1/auth/register', { body, headers: json });
  assertError(t, res, 413, 'PAYLOAD_TOO_LARGE');
  t.equal(res.body.message, 'The request body is too large');
});

t.test("bodies that are not JSON objects get stable codes and fixed messages, never a parser's", async (t) => {
  const post = (body: string, headers: Record<string, string>) =>
    call(app, 'POST', '/api/v1/auth/login', { body, headers });
  const cases: [string, Record<string, string>, number, string][] = [
    ['{"username": ', json, 400, 'INVALID_JSON'],
    ["{'username': 'a'}", json, 400, 'INVALID_JSON'],
    ['', json, 400, 'INVALID_JSON'],
    ['{"__proto__":{"x":1},"username":"a","password":"b"}', json, 400, 'INVALID_JSON'],
    ['username=a&password=b', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['username', { 'content-type': 'text/plain' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['{}', {}, 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['[1,2]', json, 400, 'VALIDATION_ERROR'],
    ['"a string"', json, 400, 'VALIDATION_ERROR'],
    ['null', json, 400, 'VALIDATION_ERROR'],
  ];
  for (const [body, headers, status, code] of cases) {
    const res = await post(body, headers);
    assertError(t, res, status, code);
    t.notMatch(
      res.body.message,
      /Unexpected|position|token|SyntaxError|FST_/,
      `${JSON.stringify(body)}: no parser text`,
    );
  }
});

t.test('a deeply nested body is a 400, not a crash', async (t) => {
  const nestings: [open: string, close: string][] = [
    ['[', ']'],
    ['{"a":', '}'],
  ];
  for (const [open, close] of nestings) {
    const depth = Math.floor(15_000 / (open.length + close.length)); // within BODY_LIMIT_BYTES
    const body = `{"username":${open.repeat(depth)}1${close.repeat(depth)},"password":"x"}`;
    assertError(t, await call(app, 'POST', '/api/v1/auth/login', { body, headers: json }), 400, 'VALIDATION_ERROR');
  }
  t.equal((await call(app, 'GET', '/health/live')).status, 200, 'still serving');
});

t.test('a path the router cannot take is answered in the contract shape too', async (t) => {
  const bad = await call(app, 'GET', '/api/v1/products/%E0%A4%A');
  assertError(t, bad, 400, 'BAD_REQUEST');
  t.equal(bad.body.message, 'The URL is not valid', 'the path is not echoed');
  assertError(t, await call(app, 'GET', `/api/v1/products/${'x'.repeat(65)}`), 400, 'VALIDATION_ERROR');
  const long = await call(app, 'GET', `/api/v1/products/${'x'.repeat(150)}`);
  assertError(t, long, 400, 'VALIDATION_ERROR');
  t.notMatch(long.body.message, /xxxx/, 'not echoed either');
});
