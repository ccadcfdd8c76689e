import t from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, login, loginAdmin, startApp } from './helpers/app.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo);
const admin = await loginAdmin(app);

t.test('GET /users/me is the signed-in user; 401 without a token', async (t) => {
  const alice = await login(app, 'alice');
  const me = await call(app, 'GET', '/api/v1/users/me', { auth: alice.auth });
  t.equal(me.status, 200);
  t.match(me.body, { id: alice.id, username: 'alice', role: 'customer', email: null });
  t.notOk('passwordHash' in me.body);
  assertError(t, await call(app, 'GET', '/api/v1/users/me'), 401, 'UNAUTHORIZED');
});

t.test('GET /users is a paginated list for admins only', async (t) => {
  for (const name of ['page-a', 'page-b', 'page-c']) await login(app, name);
  const first = await call(app, 'GET', '/api/v1/users?limit=2', { auth: admin.auth });
  t.equal(first.status, 200);
  t.equal(first.body.items.length, 2);
  t.type(first.body.nextCursor, 'string');
  const seen = [...first.body.items];
  let cursor = first.body.nextCursor;
  while (cursor) {
    const next = await call(app, 'GET', `/api/v1/users?limit=2&cursor=${cursor}`, { auth: admin.auth });
    t.equal(next.status, 200);
    seen.push(...next.body.items);
    cursor = next.body.nextCursor;
  }
  const names = seen.map((u: { username: string }) => u.username);
  t.equal(new Set(names).size, names.length, 'no user twice across pages');
  t.ok(
    ['page-a', 'page-b', 'page-c'].every((n) => names.includes(n)),
    'every user on some page',
  );
  t.notMatch(JSON.stringify(seen), /passwordHash/);

  const customer = await login(app, 'page-a');
  assertError(t, await call(app, 'GET', '/api/v1/users', { auth: customer.auth }), 403, 'FORBIDDEN');
  assertError(t, await call(app, 'GET', '/api/v1/users?limit=0', { auth: admin.auth }), 400, 'VALIDATION_ERROR');
  assertError(t, await call(app, 'GET', '/api/v1/users?cursor=bogus', { auth: admin.auth }), 400, 'INVALID_CURSOR');
});

t.test('GET /users/:id: self or admin; others 403; unknown 404', async (t) => {
  const bob = await login(app, 'bob');
  const carol = await login(app, 'carol');
  t.equal((await call(app, 'GET', `/api/v1/users/${bob.id}`, { auth: bob.auth })).status, 200);
  t.equal((await call(app, 'GET', `/api/v1/users/${bob.id}`, { auth: admin.auth })).status, 200);
  assertError(t, await call(app, 'GET', `/api/v1/users/${bob.id}`, { auth: carol.auth }), 403, 'FORBIDDEN');
  assertError(
    t,
    await call(app, 'GET', '/api/v1/users/00000000-0000-7000-8000-000000000000', { auth: admin.auth }),
    404,
    'USER_NOT_FOUND',
  );
});

t.test('PATCH /users/:id changes username, email and password; a new password ends old sessions', async (t) => {
  const dave = await login(app, 'dave');
  const res = await call(app, 'PATCH', `/api/v1/users/${dave.id}`, {
    auth: dave.auth,
    body: { username: 'david', email: 'david@example.com', password: 'new-password-42' },
  });
  t.equal(res.status, 200);
  t.match(res.body, { id: dave.id, username: 'david', email: 'david@example.com', role: 'customer' });
  t.ok(res.body.updatedAt >= res.body.createdAt);
  assertError(
    t,
    await call(app, 'POST', '/api/v1/auth/login', { body: { username: 'david', password: 'correct-horse-9' } }),
    401,
    'INVALID_CREDENTIALS',
  );
  t.equal(
    (await call(app, 'POST', '/api/v1/auth/login', { body: { username: 'david', password: 'new-password-42' } }))
      .status,
    200,
  );
  // The old name is free again; the new one is taken.
  t.equal(
    (await call(app, 'POST', '/api/v1/auth/register', { body: { username: 'dave', password: 'correct-horse-9' } }))
      .status,
    201,
  );
  assertError(
    t,
    await call(app, 'POST', '/api/v1/auth/register', { body: { username: 'DAVID', password: 'correct-horse-9' } }),
    409,
    'USERNAME_TAKEN',
  );
  assertError(t, await call(app, 'GET', '/api/v1/users/me', { auth: dave.auth }), 401, 'UNAUTHORIZED');
  t.pass('a new password ends every session opened with the old one');
  const relogin = await call(app, 'POST', '/api/v1/auth/login', {
    body: { username: 'david', password: 'new-password-42' },
  });
  const fresh = { authorization: `Bearer ${relogin.body.token}` };
  t.equal(
    (await call(app, 'PATCH', `/api/v1/users/${dave.id}`, { auth: fresh, body: { email: 'd@example.com' } })).status,
    200,
  );
  t.equal((await call(app, 'GET', '/api/v1/users/me', { auth: fresh })).status, 200, 'other changes keep the session');
  const cleared = await call(app, 'PATCH', `/api/v1/users/${dave.id}`, { auth: fresh, body: { email: null } });
  t.equal(cleared.body.email, null, 'email can be removed');
});

t.test(
  'PATCH /users/:id: 409 for a taken username, 403 for others and for a customer setting a role, 400 bad input, 404',
  async (t) => {
    const erin = await login(app, 'erin');
    const frank = await login(app, 'frank');
    assertError(
      t,
      await call(app, 'PATCH', `/api/v1/users/${erin.id}`, { auth: erin.auth, body: { username: 'Frank' } }),
      409,
      'USERNAME_TAKEN',
    );
    assertError(
      t,
      await call(app, 'PATCH', `/api/v1/users/${frank.id}`, { auth: erin.auth, body: { email: 'x@example.com' } }),
      403,
      'FORBIDDEN',
    );
    assertError(
      t,
      await call(app, 'PATCH', `/api/v1/users/${erin.id}`, { auth: erin.auth, body: { role: 'admin' } }),
      403,
      'FORBIDDEN',
    );
    assertError(
      t,
      await call(app, 'PATCH', `/api/v1/users/${erin.id}`, { auth: erin.auth, body: { id: 'mine' } }),
      400,
      'VALIDATION_ERROR',
    );
    assertError(
      t,
      await call(app, 'PATCH', `/api/v1/users/${erin.id}`, { auth: erin.auth, body: {} }),
      400,
      'VALIDATION_ERROR',
    );
    assertError(
      t,
      await call(app, 'PATCH', '/api/v1/users/00000000-0000-7000-8000-000000000000', {
        auth: admin.auth,
        body: { email: 'a@example.com' },
      }),
      404,
      'USER_NOT_FOUND',
    );
    const me = await call(app, 'GET', '/api/v1/users/me', { auth: erin.auth });
    t.match(me.body, { username: 'erin', role: 'customer' }, 'nothing changed');
  },
);

t.test('an admin may change a role, and it applies to live tokens at once', async (t) => {
  const gina = await login(app, 'gina');
  assertError(t, await call(app, 'GET', '/api/v1/users', { auth: gina.auth }), 403, 'FORBIDDEN');
  const res = await call(app, 'PATCH', `/api/v1/users/${gina.id}`, { auth: admin.auth, body: { role: 'admin' } });
  t.equal(res.status, 200);
  t.equal(res.body.role, 'admin');
  t.equal(
    (await call(app, 'GET', '/api/v1/users', { auth: gina.auth })).status,
    200,
    'the same token now has admin rights',
  );
});

t.test('DELETE /users/:id: self or admin; the deleted user is locked out; 403; 404', async (t) => {
  const hank = await login(app, 'hank');
  const ivy = await login(app, 'ivy');
  assertError(t, await call(app, 'DELETE', `/api/v1/users/${hank.id}`, { auth: ivy.auth }), 403, 'FORBIDDEN');
  t.equal((await call(app, 'DELETE', `/api/v1/users/${hank.id}`, { auth: hank.auth })).status, 204);
  assertError(t, await call(app, 'GET', '/api/v1/users/me', { auth: hank.auth }), 401, 'UNAUTHORIZED');
  assertError(
    t,
    await call(app, 'POST', '/api/v1/auth/login', { body: { username: 'hank', password: 'correct-horse-9' } }),
    401,
    'INVALID_CREDENTIALS',
  );
  t.equal((await call(app, 'DELETE', `/api/v1/users/${ivy.id}`, { auth: admin.auth })).status, 204);
  assertError(t, await call(app, 'DELETE', `/api/v1/users/${ivy.id}`, { auth: admin.auth }), 404, 'USER_NOT_FOUND');
  t.equal(
    (await call(app, 'POST', '/api/v1/auth/register', { body: { username: 'hank', password: 'correct-horse-9' } }))
      .status,
    201,
    'the username is free again',
  );
});
