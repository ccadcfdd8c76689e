import t, { type Test } from 'tap';
import { createHmac, randomUUID } from 'node:crypto';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo);
const admin = await loginAdmin(app);
const alice = await login(app, 'alice');
const bob = await login(app, 'bob');
const productId = await createProduct(app, admin.auth, { stock: 5 });

const base64url = (value: object | string) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
/** A JWT made by hand: any header, any claims, signed with HMAC-`hash` under `secret` (none: no signature). */
function forge(header: object, claims: object, secret?: string, hash = 'sha256'): string {
  const unsigned = `${base64url(header)}.${base64url(claims)}`;
  const signature = secret ? createHmac(hash, secret).update(unsigned).digest('base64url') : '';
  return `${unsigned}.${signature}`;
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const claimsOf = (id: string) => ({ sub: id, jti: randomUUID(), ver: 0, iat: now(), exp: now() + 3600 });
const secret = app.config.auth.jwtSecret;

/** What a refused token must leave alone: Alice's account, Bob's existence, the product's stock. */
async function assertNothingChanged(t: Test) {
  const aliceNow = await call(app, 'GET', `/api/v1/users/${alice.id}`, { auth: admin.auth });
  t.match(aliceNow.body, { username: 'alice', email: null, role: 'customer' }, "Alice's account is as it was");
  t.equal((await call(app, 'GET', `/api/v1/users/${bob.id}`, { auth: admin.auth })).status, 200, 'Bob still exists');
  t.equal(await app.redis.master.hget(app.redis.keys.product(productId), 'stock'), '5', 'no stock was taken');
}

/** Every kind of request a bad token might try: read, change, escalate, delete, buy. Each must be 401. */
async function assertRefusedEverywhere(t: Test, auth: { authorization: string }) {
  const attempts = [
    call(app, 'GET', '/api/v1/users/me', { auth }),
    call(app, 'PATCH', `/api/v1/users/${alice.id}`, { auth, body: { email: 'mallory@example.com' } }),
    call(app, 'PATCH', `/api/v1/users/${alice.id}`, { auth, body: { role: 'admin' } }),
    call(app, 'DELETE', `/api/v1/users/${bob.id}`, { auth }),
    call(app, 'GET', '/api/v1/users', { auth }),
    call(app, 'POST', '/api/v1/purchases', { auth, body: { productId, quantity: 1 } }),
  ];
  for (const res of await Promise.all(attempts)) assertError(t, res, 401, 'UNAUTHORIZED');
  await assertNothingChanged(t);
}

t.test('a token with alg "none" and no signature is refused', async (t) => {
  await assertRefusedEverywhere(t, bearer(forge({ alg: 'none', typ: 'JWT' }, claimsOf(admin.id))));
});

t.test('a token signed with another key is refused', async (t) => {
  await assertRefusedEverywhere(t, bearer(forge({ alg: 'HS256', typ: 'JWT' }, claimsOf(admin.id), 'x'.repeat(40))));
});

t.test("a real token whose payload was changed (another user's id) under its own header and signature", async (t) => {
  const [header, , signature] = alice.token.split('.');
  const original = JSON.parse(Buffer.from(alice.token.split('.')[1]!, 'base64url').toString()) as { sub: string };
  t.equal(original.sub, alice.id, 'the original names Alice');
  const tampered = `${header}.${base64url({ ...original, sub: admin.id })}.${signature}`;
  await assertRefusedEverywhere(t, bearer(tampered));
  t.equal((await call(app, 'GET', '/api/v1/users/me', { auth: alice.auth })).status, 200, 'the original still works');
});

t.test('only HS256 is accepted: HS512 under the right secret is refused', async (t) => {
  await assertRefusedEverywhere(t, bearer(forge({ alg: 'HS512', typ: 'JWT' }, claimsOf(alice.id), secret, 'sha512')));
});

t.test('an expired token is refused, even one validly signed', async (t) => {
  const expired = { ...claimsOf(alice.id), iat: now() - 7200, exp: now() - 60 };
  await assertRefusedEverywhere(t, bearer(forge({ alg: 'HS256', typ: 'JWT' }, expired, secret)));
});

t.test('a validly signed token without an expiry or without a jti is refused', async (t) => {
  const { exp: _exp, ...eternal } = claimsOf(alice.id);
  await assertRefusedEverywhere(t, bearer(forge({ alg: 'HS256', typ: 'JWT' }, eternal, secret)));
  const { jti: _jti, ...unrevocable } = claimsOf(alice.id);
  await assertRefusedEverywhere(t, bearer(forge({ alg: 'HS256', typ: 'JWT' }, unrevocable, secret)));
});

t.test('a validly signed token for a user who never existed is refused', async (t) => {
  await assertRefusedEverywhere(t, bearer(forge({ alg: 'HS256', typ: 'JWT' }, claimsOf(randomUUID()), secret)));
});

t.test('a logged-out token is refused everywhere', async (t) => {
  const erin = await login(app, 'erin');
  t.equal((await call(app, 'POST', '/api/v1/auth/logout', { auth: erin.auth })).status, 204);
  await assertRefusedEverywhere(t, erin.auth);
  assertError(t, await call(app, 'POST', '/api/v1/auth/logout', { auth: erin.auth }), 401, 'UNAUTHORIZED');
});

t.test("a deleted user's token is refused, and a new account of the same name does not revive it", async (t) => {
  const carol = await login(app, 'carol');
  t.equal((await call(app, 'DELETE', `/api/v1/users/${carol.id}`, { auth: admin.auth })).status, 204);
  await assertRefusedEverywhere(t, carol.auth);
  const again = await login(app, 'carol');
  t.not(again.id, carol.id, 'the new account has a new id');
  await assertRefusedEverywhere(t, carol.auth);
  t.equal((await call(app, 'GET', '/api/v1/users/me', { auth: again.auth })).body.id, again.id);
});

t.test("a token made before its user's password change is refused", async (t) => {
  const dave = await login(app, 'dave');
  const res = await call(app, 'PATCH', `/api/v1/users/${dave.id}`, {
    auth: dave.auth,
    body: { password: 'a-new-password-7' },
  });
  t.equal(res.status, 200);
  await assertRefusedEverywhere(t, dave.auth);
});

t.test('a header that is not a bearer token is refused', async (t) => {
  for (const authorization of [`Basic ${base64url('alice:correct-horse-9')}`, alice.token, 'Bearer ', 'Bearer a.b']) {
    assertError(t, await call(app, 'GET', '/api/v1/users/me', { auth: { authorization } }), 401, 'UNAUTHORIZED');
  }
});
