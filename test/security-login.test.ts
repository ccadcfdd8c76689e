import t from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, login, loginAdmin, startApp, type Call } from './helpers/app.js';

const topo = await startTestTopology(t);
// BCRYPT_COST 4 (the test default) here; another instance below hashes at 5.
const app = await startApp(t, topo, { LOGIN_RATE_LIMIT_MAX: '100' });
const admin = await loginAdmin(app);
const COST = app.config.auth.passwords.cost;

let nextIp = 1;
/** A login from an address of its own: every answer starts from the same rate-limit counts. */
const attempt = (username: string, password: string, target = app) =>
  call(target, 'POST', '/api/v1/auth/login', { body: { username, password }, ip: `10.77.0.${nextIp++}` });

/** bcrypt jobs a request made, by kind and cost (the worker pool's own count: no clock involved). */
async function jobsOf(request: () => Promise<Call>, target = app, cost = COST) {
  const before = {
    hash: target.passwords.finishedJobs('hash', cost),
    compare: target.passwords.finishedJobs('compare', cost),
  };
  const res = await request();
  return {
    res,
    hashes: target.passwords.finishedJobs('hash', cost) - before.hash,
    compares: target.passwords.finishedJobs('compare', cost) - before.compare,
  };
}

/** An answer as a client sees it, less what differs on every request by design. */
const comparable = (res: Call) => {
  const { 'x-request-id': _id, date: _date, ...headers } = res.headers;
  return { status: res.status, body: res.body, headers };
};

t.test('an unknown username and a wrong password get the very same answer', async (t) => {
  await login(app, 'alice');
  const unknown = await attempt('nobody-at-all', 'correct-horse-9');
  const wrong = await attempt('alice', 'wrong-horse-9');
  assertError(t, unknown, 401, 'INVALID_CREDENTIALS');
  t.same(comparable(unknown), comparable(wrong), 'same status, body and headers (but the request id)');
  t.ok(unknown.headers['x-request-id'], 'each has its own request id');
});

t.test('each costs exactly one bcrypt comparison at the configured cost, and no hash', async (t) => {
  await login(app, 'bob');
  const deleted = await login(app, 'gone-user');
  await call(app, 'DELETE', `/api/v1/users/${deleted.id}`, { auth: admin.auth });
  const cases = {
    'unknown username': () => attempt('nobody-at-all', 'correct-horse-9'),
    'wrong password': () => attempt('bob', 'wrong-horse-9'),
    'deleted account': () => attempt('gone-user', 'correct-horse-9'),
    'password over 72 bytes': () => attempt('bob', `correct-horse-9${'x'.repeat(80)}`),
  };
  for (const [name, request] of Object.entries(cases)) {
    const { res, hashes, compares } = await jobsOf(request);
    assertError(t, res, 401, 'INVALID_CREDENTIALS');
    t.equal(compares, 1, `${name}: one comparison at cost ${COST}`);
    t.equal(hashes, 0, `${name}: no hash`);
  }
  const { res, compares } = await jobsOf(() => attempt('bob', 'correct-horse-9'));
  t.equal(res.status, 200);
  t.equal(compares, 1, 'a successful login costs the same one comparison');
});

t.test("the unknown user's stand-in hash follows BCRYPT_COST", async (t) => {
  const other = await startApp(t, topo, { BCRYPT_COST: '5' });
  const { res, compares, hashes } = await jobsOf(() => attempt('nobody-at-all', 'correct-horse-9', other), other, 5);
  assertError(t, res, 401, 'INVALID_CREDENTIALS');
  t.equal(compares, 1, 'one comparison at cost 5');
  t.equal(hashes, 0, 'even the first unknown username: the stand-in was hashed at start, not on the way');
});

t.test(
  'register: a taken username is 409 USERNAME_TAKEN (the contract), after the same one hash as a new one',
  async (t) => {
    const fresh = await jobsOf(() =>
      call(app, 'POST', '/api/v1/auth/register', { body: { username: 'carol', password: 'correct-horse-9' } }),
    );
    const taken = await jobsOf(() =>
      call(app, 'POST', '/api/v1/auth/register', { body: { username: 'CAROL', password: 'correct-horse-9' } }),
    );
    t.equal(fresh.res.status, 201);
    assertError(t, taken.res, 409, 'USERNAME_TAKEN');
    t.same([fresh.hashes, taken.hashes], [1, 1], 'no faster answer for a taken name');
  },
);

t.test(
  'passwords are at most 72 bytes of UTF-8, what bcrypt reads: longer ones are refused, not truncated',
  async (t) => {
    const cases = [
      { username: 'ascii-72', password: 'a'.repeat(72), ok: true },
      { username: 'accents-72', password: 'é'.repeat(36), ok: true }, // 36 characters, 72 bytes
      { username: 'accents-74', password: 'é'.repeat(37), ok: false }, // 37 characters, 74 bytes
      { username: 'emoji-76', password: '😀'.repeat(19), ok: false }, // 19 code points, 76 bytes
      { username: 'cjk-75', password: '密'.repeat(25), ok: false }, // 25 characters, 75 bytes
    ];
    for (const { username, password, ok } of cases) {
      const res = await call(app, 'POST', '/api/v1/auth/register', { body: { username, password } });
      if (ok) {
        t.equal(res.status, 201, `${username} is accepted`);
        t.equal((await attempt(username, password)).status, 200, `${username} can log in`);
      } else {
        assertError(t, res, 400, 'VALIDATION_ERROR');
        t.equal(res.body.message, 'body/password must NOT have more than 72 bytes in UTF-8', `${username}: says why`);
        assertError(t, await attempt(username, password), 401, 'INVALID_CREDENTIALS');
      }
    }
    assertError(
      t,
      await call(app, 'POST', '/api/v1/auth/register', { body: { username: 'ascii-73', password: 'a'.repeat(73) } }),
      400,
      'VALIDATION_ERROR',
    );
  },
);

t.test('a password change is held to the same 72 bytes, and a refused one changes nothing', async (t) => {
  const dave = await login(app, 'dave');
  const res = await call(app, 'PATCH', `/api/v1/users/${dave.id}`, {
    auth: dave.auth,
    body: { password: 'ü'.repeat(37) },
  });
  assertError(t, res, 400, 'VALIDATION_ERROR');
  t.equal((await call(app, 'GET', '/api/v1/users/me', { auth: dave.auth })).status, 200, 'the session goes on');
  t.equal((await attempt('dave', 'correct-horse-9')).status, 200, 'the old password still works');
});

t.test('a login past 72 bytes never matches, even where bcrypt would: answered like a wrong password', async (t) => {
  // bcrypt reads only the first 72 bytes: these would match the stored hashes if they were compared as they are.
  const cases = [
    ['ascii-72', `${'a'.repeat(72)}anything`],
    ['accents-72', 'é'.repeat(37)],
  ] as const;
  const wrong = await attempt('ascii-72', 'wrong-horse-9');
  for (const [username, password] of cases) {
    const res = await attempt(username, password);
    assertError(t, res, 401, 'INVALID_CREDENTIALS');
    t.same(comparable(res), comparable(wrong), `${username}: the same answer as any wrong password`);
  }
});
