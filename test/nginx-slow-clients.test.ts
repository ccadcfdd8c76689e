import t from 'tap';
import { describeOutcome, rawExchange, requestBytes, type RawOutcome } from './helpers/fuzz-http.js';
import { fakeUpstream, startTestNginx } from './helpers/stack.js';

/**
 * Slow and silent clients, measured against NGINX 1.22 as nginx/nginx.conf sets it up (10 s header and body
 * timeouts): NGINX never answers a timed-out request, not even with its 408; it closes the connection (with a
 * reset, reset_timedout_connection) and nothing reaches an instance. The cases run side by side (~16 s).
 */

const TIMEOUT_MS = 10_000;
const bytes = (text: string) => Buffer.from(text, 'latin1');
const HEAD = 'POST /api/v1/products HTTP/1.1\r\nHost: x\r\n';

t.test('slow clients are cut off at the timeout, unanswered; nothing hangs', async (t) => {
  const upstream = await fakeUpstream(t);
  const locations = '    location = /test-status/408 { return 408; }';
  const { base } = await startTestNginx(t, [upstream.address, upstream.address], undefined, locations);
  const to = { host: '127.0.0.1', port: Number(new URL(base).port) };
  const exchange = (pieces: Buffer[], gapMs = 0) => rawExchange(to, pieces, { timeoutMs: 20_000, gapMs });

  const [idle, partialLine, drippedHeaders, stalledBody, stalledChunks, trickledBody, returned408] = await Promise.all([
    exchange([]),
    exchange([bytes('GET /api')]),
    // A byte every 0.5 s: each read is in time, but the whole header must come within the timeout.
    exchange(
      [...bytes('GET /api/v1/products HTTP/1.1\r\nHost: x\r\nX-Slow: abcdefghij')].map((b) => Buffer.of(b)),
      500,
    ),
    exchange([bytes(`${HEAD}Content-Length: 10\r\n\r\n{"a`)]),
    exchange([bytes(`${HEAD}Transfer-Encoding: chunked\r\n\r\n5\r\nab`)]),
    // A byte every 2 s: client_body_timeout is per read, so this body may take as long as it likes.
    exchange([bytes(`${HEAD}Content-Length: 8\r\n\r\n`), ...[...'{"a":12}'].map((c) => bytes(c))], 2000),
    exchange([requestBytes({ method: 'GET', target: '/test-status/408' })]),
  ]);

  const cutOff = (name: string, outcome: RawOutcome, how: 'end' | 'reset') =>
    t.test(name, async (t) => {
      t.match(outcome, { kind: 'closed', how, received: '' }, `closed, no byte answered: ${describeOutcome(outcome)}`);
      // Not before the timeout; well before the test's own 20 s (a loaded machine may be late, never early).
      t.ok(outcome.ms >= TIMEOUT_MS - 500 && outcome.ms < 2 * TIMEOUT_MS, `at the timeout: ${outcome.ms} ms`);
    });
  // An idle connection has no request yet to time out: a plain close.
  await cutOff('a connection that sends nothing: closed (FIN)', idle, 'end');
  await cutOff('half a request line: reset', partialLine, 'reset');
  await cutOff('headers sent a byte at a time: reset at the timeout from the first byte', drippedHeaders, 'reset');
  await cutOff('a body that stops: reset', stalledBody, 'reset');
  await cutOff('a chunked body that stops: reset', stalledChunks, 'reset');

  await t.test('a body that keeps trickling is not cut off: the timeout is per read', async (t) => {
    t.match(trickledBody, { kind: 'response', response: { status: 200 } }, describeOutcome(trickledBody));
    t.ok(trickledBody.ms > 15_000, `answered after ${trickledBody.ms} ms`);
  });

  await t.test('even a 408 NGINX means to send is never sent: the connection is closed', async (t) => {
    t.match(returned408, { kind: 'closed', received: '' }, describeOutcome(returned408));
    t.ok(returned408.ms < TIMEOUT_MS, `at once, not at a timeout: ${returned408.ms} ms`);
  });

  t.same(
    upstream.seen.map((r) => r.url),
    ['/api/v1/products'],
    'only the trickled request reached an instance, once whole',
  );
});
