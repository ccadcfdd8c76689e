import t, { type Test } from 'tap';
import { call, fakeUpstream, startTestNginx, type HttpResult } from './helpers/stack.js';

/** Two instances that fail the way the request's x-fake header says, behind a fresh NGINX. */
async function setup(t: Test) {
  const [a, b] = [await fakeUpstream(t), await fakeUpstream(t)];
  const { base } = await startTestNginx(t, [a.address, b.address]);
  return { base, attempts: () => a.seen.length + b.seen.length };
}

const contract = (t: Test, res: HttpResult, statusCode: number, code: string, error: string) => {
  t.equal(res.status, statusCode);
  t.same(Object.keys(res.body).sort(), ['code', 'error', 'message', 'statusCode'], "the contract's fields only");
  t.match(res.body, { statusCode, code, error, message: String });
  t.ok(res.headers['x-request-id'], 'with a request id');
};

t.test('a GET that an instance drops is sent to the other one', async (t) => {
  const { base, attempts } = await setup(t);
  const res = await call(base, 'GET', '/api/v1/products', { headers: { 'x-fake': 'drop' } });
  t.equal(attempts(), 2, 'both instances tried');
  contract(t, res, 502, 'BAD_GATEWAY', 'Bad Gateway');
});

t.test('a purchase without Idempotency-Key is never sent twice', async (t) => {
  const { base, attempts } = await setup(t);
  const res = await call(base, 'POST', '/api/v1/purchases', { body: {}, headers: { 'x-fake': 'drop' } });
  t.equal(attempts(), 1, 'one instance tried');
  contract(t, res, 502, 'BAD_GATEWAY', 'Bad Gateway');
});

t.test('a purchase with an Idempotency-Key is retried on the other instance', async (t) => {
  const { base, attempts } = await setup(t);
  const res = await call(base, 'POST', '/api/v1/purchases', {
    body: {},
    headers: { 'x-fake': 'drop', 'idempotency-key': 'k-1' },
  });
  t.equal(attempts(), 2, 'both instances tried');
  contract(t, res, 502, 'BAD_GATEWAY', 'Bad Gateway');
});

t.test('other POSTs are not sent twice', async (t) => {
  const { base, attempts } = await setup(t);
  const res = await call(base, 'POST', '/api/v1/products', {
    body: {},
    headers: { 'x-fake': 'drop', 'idempotency-key': 'k-2' },
  });
  t.equal(attempts(), 1, 'one instance tried');
  t.equal(res.status, 502);
});

t.test('an instance that never answers: 504 in the contract shape within seconds, not 60', async (t) => {
  const { base, attempts } = await setup(t);
  const startedAt = Date.now();
  const res = await call(base, 'POST', '/api/v1/purchases', { body: {}, headers: { 'x-fake': 'hang' } });
  const waitedMs = Date.now() - startedAt;
  contract(t, res, 504, 'GATEWAY_TIMEOUT', 'Gateway Timeout');
  t.equal(attempts(), 1, 'not retried without a key');
  t.ok(waitedMs < 7000, `answered after ${waitedMs} ms`);
});
