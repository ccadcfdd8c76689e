import t from 'tap';
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo);
const admin = await loginAdmin(app);
const alice = await login(app, 'alice');
const bob = await login(app, 'bob');
const { master, keys } = app.redis;

const buy = (auth: { authorization: string }, body: object, headers: Record<string, string> = {}) =>
  call(app, 'POST', '/api/v1/purchases', { auth, body, headers });

/** Ids an attacker would try next to a known one: the neighbours of its sequence counter, and fresh ones. */
function guessesNear(id: string): string[] {
  const hex = id.replace(/-/g, '');
  const shifted = (delta: bigint) => {
    const n = (BigInt(`0x${hex}`) + (delta << 42n)).toString(16).padStart(32, '0'); // the counter sits above 42 bits
    return `${n.slice(0, 8)}-${n.slice(8, 12)}-${n.slice(12, 16)}-${n.slice(16, 20)}-${n.slice(20)}`;
  };
  return [shifted(1n), shifted(-1n), shifted(2n), uuidv7(), randomUUID(), '1', '0', 'admin', '..%2F..%2Fetc'];
}

t.test("a customer gets the same 403 for another user's account whether or not it exists", async (t) => {
  const answers = new Set<string>();
  for (const id of [alice.id, admin.id, ...guessesNear(alice.id)]) {
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { email: 'bob@example.com' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await call(app, method, `/api/v1/users/${id}`, { auth: bob.auth, body });
      assertError(t, res, 403, 'FORBIDDEN');
      answers.add(JSON.stringify(res.body));
    }
  }
  t.equal(answers.size, 1, 'one answer for every id: nothing tells which accounts exist');
  const aliceNow = await call(app, 'GET', `/api/v1/users/${alice.id}`, { auth: alice.auth });
  t.match(aliceNow.body, { id: alice.id, username: 'alice', email: null }, 'Alice is untouched');
  t.equal((await call(app, 'GET', '/api/v1/users/me', { auth: admin.auth })).status, 200, 'the admin is untouched');
});

t.test("a customer can neither read, list nor guess another user's purchases", async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 10 });
  const bobs = (await buy(bob.auth, { productId, quantity: 1 })).body;
  const alices = (await buy(alice.auth, { productId, quantity: 1 })).body;
  assertError(t, await call(app, 'GET', `/api/v1/purchases/${alices.id}`, { auth: bob.auth }), 403, 'FORBIDDEN');
  for (const id of [...guessesNear(bobs.id), ...guessesNear(alices.id)]) {
    const res = await call(app, 'GET', `/api/v1/purchases/${id}`, { auth: bob.auth });
    t.not(res.status, 200, `guess ${id} finds nothing`);
    t.notMatch(JSON.stringify(res.body), /userId|totalCents/, 'and shows no purchase');
  }
  assertError(t, await call(app, 'GET', `/api/v1/purchases?userId=${alice.id}`, { auth: bob.auth }), 403, 'FORBIDDEN');
  const own = await call(app, 'GET', '/api/v1/purchases?limit=100', { auth: bob.auth });
  t.ok(
    own.body.items.every((p: { userId: string }) => p.userId === bob.id),
    'his own list holds only his',
  );
});

t.test("an Idempotency-Key is per user: another user's key never returns their purchase", async (t) => {
  const productId = await createProduct(app, admin.auth, { stock: 10 });
  const first = await buy(alice.auth, { productId, quantity: 2 }, { 'idempotency-key': 'shared-key-1' });
  const other = await buy(bob.auth, { productId, quantity: 2 }, { 'idempotency-key': 'shared-key-1' });
  t.equal(other.status, 201);
  t.not(other.body.id, first.body.id);
  t.equal(other.body.userId, bob.id);
  t.notOk(other.headers['idempotent-replayed']);
});

t.test('a customer cannot use the admin routes, and they change nothing', async (t) => {
  const productId = await createProduct(app, admin.auth, { name: 'Guarded', priceCents: 500, stock: 3 });
  const attempts = [
    call(app, 'POST', '/api/v1/products', { auth: bob.auth, body: { name: 'Free', priceCents: 0, stock: 99 } }),
    call(app, 'PATCH', `/api/v1/products/${productId}`, { auth: bob.auth, body: { priceCents: 1 } }),
    call(app, 'DELETE', `/api/v1/products/${productId}`, { auth: bob.auth }),
    call(app, 'GET', '/api/v1/users', { auth: bob.auth }),
  ];
  for (const res of await Promise.all(attempts)) assertError(t, res, 403, 'FORBIDDEN');
  t.same(await master.hmget(keys.product(productId), 'priceCents', 'stock'), ['500', '3'], 'the product is untouched');
});

t.test(
  'register: role, id, timestamps and password fields cannot be set, and a refused body creates nothing',
  async (t) => {
    const base = { username: 'mallory', password: 'correct-horse-9' };
    for (const extra of [
      { role: 'admin' },
      { id: '00000000-0000-7000-8000-000000000001' },
      { createdAt: '2000-01-01T00:00:00.000Z' },
      { updatedAt: '2000-01-01T00:00:00.000Z' },
      { passwordHash: '$2b$04$abcdefghijklmnopqrstuuOOMRlY7sBcBi7n8cHSOqCwTXcC8RuU.' },
      { sessionVersion: 7 },
    ]) {
      assertError(
        t,
        await call(app, 'POST', '/api/v1/auth/register', { body: { ...base, ...extra } }),
        400,
        'VALIDATION_ERROR',
      );
    }
    t.equal(await master.hget(keys.usernames(), 'mallory'), null, 'no account was made');
    const made = await call(app, 'POST', '/api/v1/auth/register', { body: base });
    t.match(made.body, { username: 'mallory', role: 'customer' }, 'the plain body makes a customer');
    t.not(made.body.id, '00000000-0000-7000-8000-000000000001');
  },
);

t.test('a prototype-polluting body is refused as INVALID_JSON and sets nothing', async (t) => {
  const json = { 'content-type': 'application/json' };
  for (const body of [
    '{"username":"proto-user","password":"correct-horse-9","__proto__":{"role":"admin"}}',
    '{"username":"proto-user","password":"correct-horse-9","constructor":{"prototype":{"role":"admin"}}}',
  ]) {
    assertError(t, await call(app, 'POST', '/api/v1/auth/register', { body, headers: json }), 400, 'INVALID_JSON');
  }
  t.equal(await master.hget(keys.usernames(), 'proto-user'), null, 'no account was made');
  t.equal(({} as { role?: string }).role, undefined, "Object's prototype is clean");
});

t.test('PATCH /users/:id: only username, password and email (role for admins); nothing else', async (t) => {
  const before = await master.hgetall(keys.user(alice.id));
  for (const body of [
    { id: 'mine' },
    { createdAt: '2000-01-01T00:00:00.000Z' },
    { updatedAt: '2000-01-01T00:00:00.000Z' },
    { passwordHash: 'x' },
    { sessionVersion: 0 },
    { email: 'a@example.com', isAdmin: true },
  ]) {
    for (const auth of [alice.auth, admin.auth]) {
      assertError(t, await call(app, 'PATCH', `/api/v1/users/${alice.id}`, { auth, body }), 400, 'VALIDATION_ERROR');
    }
  }
  assertError(
    t,
    await call(app, 'PATCH', `/api/v1/users/${alice.id}`, { auth: alice.auth, body: { role: 'admin' } }),
    403,
    'FORBIDDEN',
  );
  t.same(await master.hgetall(keys.user(alice.id)), before, "Alice's record did not change at all");
});

t.test('products: id and timestamps cannot be set on create or update', async (t) => {
  const productId = await createProduct(app, admin.auth, { name: 'Fixed', priceCents: 700, stock: 2 });
  const before = await master.hgetall(keys.product(productId));
  for (const extra of [
    { id: 'chosen' },
    { createdAt: '2000-01-01T00:00:00.000Z' },
    { updatedAt: '2000-01-01T00:00:00.000Z' },
  ]) {
    assertError(
      t,
      await call(app, 'POST', '/api/v1/products', {
        auth: admin.auth,
        body: { name: 'X', priceCents: 1, stock: 1, ...extra },
      }),
      400,
      'VALIDATION_ERROR',
    );
    assertError(
      t,
      await call(app, 'PATCH', `/api/v1/products/${productId}`, { auth: admin.auth, body: { stock: 9, ...extra } }),
      400,
      'VALIDATION_ERROR',
    );
  }
  t.same(await master.hgetall(keys.product(productId)), before, 'the product did not change');
});

t.test("purchases: the price, total, buyer, id and time are the server's, never the body's", async (t) => {
  const productId = await createProduct(app, admin.auth, { priceCents: 1000, stock: 5 });
  for (const extra of [
    { unitPriceCents: 1 },
    { totalCents: 1 },
    { userId: alice.id },
    { id: '00000000-0000-7000-8000-000000000002' },
    { createdAt: '2000-01-01T00:00:00.000Z' },
  ]) {
    assertError(t, await buy(bob.auth, { productId, quantity: 1, ...extra }), 400, 'VALIDATION_ERROR');
  }
  t.equal(await master.hget(keys.product(productId), 'stock'), '5', 'no refused purchase took stock');
  const bought = await buy(bob.auth, { productId, quantity: 2 });
  t.match(bought.body, { userId: bob.id, unitPriceCents: 1000, totalCents: 2000 }, 'a real one is charged the price');
});
