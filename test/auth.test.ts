import t from 'tap';
import { adminClient, startTestTopology } from './helpers/topology.js';
import { ADMIN, assertError, call, login, startApp } from './helpers/app.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo, { LOGIN_RATE_LIMIT_MAX: '5' });

t.test('POST /auth/register creates a customer and never returns the password', async (t) => {
  const res = await call(app, 'POST', '/api/v1/auth/register', {
    body: { username: 'Alice', password: 'correct-horse-9', email: 'alice@example.com' },
  });
  t.equal(res.status, 201);
  t.match(res.body, {
    id: String,
    username: 'Alice',
    email: 'alice@example.com',
    role: 'customer',
    createdAt: String,
    updatedAt: String,
  });
  t.notMatch(JSON.stringify(res.body), /password|correct-horse/i);
  t.ok(res.headers['x-request-id'], 'every response carries a request id');
});

t.test('register: a taken username (any case) is 409 USERNAME_TAKEN', async (t) => {
  await call(app, 'POST', '/api/v1/auth/register', { body: { username: 'bob', password: 'correct-horse-9' } });
  assertError(
    t,
    await call(app, 'POST', '/api/v1/auth/register', { body: { username: 'BOB', password: 'another-pass-1' } }),
    409,
    'USERNAME_TAKEN',
  );
});

t.test('register: invalid input is 400 and creates nothing', async (t) => {
  const cases = [
    { username: 'ab', password: 'correct-horse-9' },
    { username: 'carol', password: 'short' },
    { username: 'carol', password: 'correct-horse-9', email: 'not-an-email' },
    { username: 'carol', password: 'correct-horse-9', role: 'admin' },
    { username: 'carol bad', password: 'correct-horse-9' },
    { username: 'carol', password: 12345678 },
  ];
  for (const body of cases)
    assertError(t, await call(app, 'POST', '/api/v1/auth/register', { body }), 400, 'VALIDATION_ERROR');
  const res = await call(app, 'POST', '/api/v1/auth/login', {
    body: { username: 'carol', password: 'correct-horse-9' },
  });
  assertError(t, res, 401, 'INVALID_CREDENTIALS');
});

t.test('register: malformed JSON and a wrong content type get contract errors', async (t) => {
  const bad = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    headers: { 'content-type': 'application/json' },
    payload: '{"username": ',
  });
  assertError(t, { status: bad.statusCode, body: bad.json(), headers: bad.headers }, 400, 'INVALID_JSON');
  const text = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    headers: { 'content-type': 'application/xml' },
    payload: '<user/>',
  });
  assertError(t, { status: text.statusCode, body: text.json(), headers: text.headers }, 415, 'UNSUPPORTED_MEDIA_TYPE');
});

t.test('POST /auth/login returns a token, its lifetime and the user', async (t) => {
  const res = await call(app, 'POST', '/api/v1/auth/login', {
    body: { username: 'alice', password: 'correct-horse-9' },
  });
  t.equal(res.status, 200);
  t.match(res.body, { token: String, expiresIn: 3600, user: { username: 'Alice', role: 'customer' } });
  const me = await call(app, 'GET', '/api/v1/users/me', { auth: { authorization: `Bearer ${res.body.token}` } });
  t.equal(me.status, 200);
  t.equal(me.body.id, res.body.user.id);
});

t.test('login: wrong password and unknown user are the same 401 INVALID_CREDENTIALS', async (t) => {
  assertError(
    t,
    await call(app, 'POST', '/api/v1/auth/login', { body: { username: 'alice', password: 'wrong-password' } }),
    401,
    'INVALID_CREDENTIALS',
  );
  assertError(
    t,
    await call(app, 'POST', '/api/v1/auth/login', { body: { username: 'nobody', password: 'wrong-password' } }),
    401,
    'INVALID_CREDENTIALS',
  );
});

t.test('the bootstrap admin from ADMIN_USERNAME/ADMIN_PASSWORD can log in as admin', async (t) => {
  const res = await call(app, 'POST', '/api/v1/auth/login', { body: ADMIN });
  t.equal(res.status, 200);
  t.equal(res.body.user.role, 'admin');
});

const loginLimited = async (limit: 'ip' | 'username') =>
  (await app.businessMetrics.loginLimited.get()).values.find((v) => v.labels.limit === limit)?.value;

t.test('login attempts per username are limited: 429 with retry-after', async (t) => {
  await call(app, 'POST', '/api/v1/auth/register', { body: { username: 'dave', password: 'correct-horse-9' } });
  const statuses: number[] = [];
  // Each attempt from another address: the per-username limit alone must stop them.
  for (let i = 0; i < 5; i++) {
    statuses.push(
      (
        await call(app, 'POST', '/api/v1/auth/login', {
          ip: `10.0.1.${i}`,
          body: { username: 'dave', password: 'wrong-password' },
        })
      ).status,
    );
  }
  t.same(statuses, [401, 401, 401, 401, 401], 'the first five attempts are judged');
  const limited = await call(app, 'POST', '/api/v1/auth/login', {
    ip: '10.0.1.99',
    body: { username: 'dave', password: 'correct-horse-9' },
  });
  assertError(t, limited, 429, 'RATE_LIMITED');
  t.ok(Number(limited.headers['retry-after']) > 0, 'retry-after says when to come back');
  t.equal(await loginLimited('username'), 1, 'counted for the login-limit storm alert');
});

t.test('login attempts per client IP are limited too', async (t) => {
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    statuses.push(
      (
        await call(app, 'POST', '/api/v1/auth/login', {
          ip: '10.0.2.1',
          body: { username: `someone${i}`, password: 'wrong-password' },
        })
      ).status,
    );
  }
  t.same(statuses, [401, 401, 401, 401, 401, 429]);
  t.equal(await loginLimited('ip'), 1, 'counted by the limit that refused it');
  const { master, keys } = app.redis;
  const ttl = await master.pttl(keys.loginAttempts('ip', '10.0.2.1'));
  t.ok(ttl > 0, 'the counter is named after the client IP and ends with its window');
  const unset = await adminClient(t, topo).keys(`${keys.rateLimit('*')}*undefined*`);
  t.same(unset, [], 'no counter key has an unset part in its name');
});

t.test('POST /auth/logout revokes the token', async (t) => {
  const user = await login(app, 'erin');
  const out = await call(app, 'POST', '/api/v1/auth/logout', { auth: user.auth });
  t.equal(out.status, 204);
  assertError(t, await call(app, 'GET', '/api/v1/users/me', { auth: user.auth }), 401, 'UNAUTHORIZED');
  assertError(t, await call(app, 'POST', '/api/v1/auth/logout', { auth: user.auth }), 401, 'UNAUTHORIZED');
});

t.test('logout and signed-in routes without a valid token are 401', async (t) => {
  assertError(t, await call(app, 'POST', '/api/v1/auth/logout'), 401, 'UNAUTHORIZED');
  assertError(
    t,
    await call(app, 'GET', '/api/v1/users/me', { auth: { authorization: 'Bearer not.a.jwt' } }),
    401,
    'UNAUTHORIZED',
  );
  const forged = app.jwt.sign({ sub: 'someone', jti: 'x', ver: 0 }, {
    key: 'another-secret-that-is-long-enough-000',
  } as never);
  assertError(
    t,
    await call(app, 'GET', '/api/v1/users/me', { auth: { authorization: `Bearer ${forged}` } }),
    401,
    'UNAUTHORIZED',
  );
});
