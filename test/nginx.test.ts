import { readFile } from 'node:fs/promises';
import t from 'tap';
import { contractErrorProblems, describeOutcome, rawExchange, requestBytes } from './helpers/fuzz-http.js';
import { call, fakeUpstream, startTestNginx } from './helpers/stack.js';
import { SseClient } from '../ops/live/sse-client.js';

const NOT_FOUND = { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'Route not found' };

t.test('the rendered config passes nginx -t and names no path outside its folder (errors go to stderr)', async (t) => {
  const upstream = await fakeUpstream(t);
  const { files } = await startTestNginx(t, [upstream.address, upstream.address]); // runs nginx -t first
  const config = (await readFile(files.conf, 'utf8')).replace(/^\s*#.*$/gm, '');
  t.notMatch(config, /\$\{\w+\}/, 'every ${NAME} is filled in');
  const directives = [...config.matchAll(/^\s*(?:pid|error_log|access_log|\w+_temp_path)\s+([^\s;]+)/gm)];
  // The error log goes to stderr, which the supervisor writes into the folder and rotates.
  const paths = directives.map((m) => m[1] as string).filter((p) => p !== 'off' && p !== 'stderr');
  t.equal(paths.length, 7, 'pid, the access log and every temp path are set');
  t.same(
    paths.filter((p) => !p.startsWith(`${files.dir}/`)),
    [],
    'all inside the folder, none in /run or /var',
  );
});

t.test('what NGINX answers itself and what it routes', async (t) => {
  const [a, b] = [await fakeUpstream(t), await fakeUpstream(t)];
  const { base, statusBase } = await startTestNginx(t, [a.address, b.address]);
  const upstreamHits = () => a.seen.length + b.seen.length;

  await t.test("/health is NGINX's own", async (t) => {
    const res = await call(base, 'GET', '/health');
    t.equal(res.status, 200);
    t.same(res.body, { status: 'ok' });
    t.equal(res.headers['server'], 'nginx', 'no version in the Server header');
    t.equal(upstreamHits(), 0, 'no API instance asked');
  });

  await t.test("/metrics and the instances' /health/* are not public: 404 in the contract shape", async (t) => {
    for (const url of ['/metrics', '/health/ready', '/health/live', '/']) {
      const res = await call(base, 'GET', url);
      t.equal(res.status, 404, url);
      t.same(res.body, NOT_FOUND, `${url}: contract JSON`);
      t.equal(res.headers['content-type'], 'application/json');
    }
    t.equal(upstreamHits(), 0, 'no API instance asked');
  });

  await t.test('no other spelling of an internal path reaches an instance either', async (t) => {
    const to = { host: '127.0.0.1', port: Number(new URL(base).port) };
    // Sent byte for byte: fetch would resolve the dot segments itself.
    const spellings = [
      '/api/../metrics',
      '/api/%2e%2e/metrics',
      '/api/v1/..%2f..%2fmetrics',
      '/docs/../health/ready',
      '/docs/..%2Fhealth%2Flive',
      '//metrics',
      '/%6detrics',
      '/%68ealth/ready',
      '/METRICS',
      '/metrics?format=text',
      '/health/',
      '/stub_status',
    ];
    for (const target of spellings) {
      const outcome = await rawExchange(to, requestBytes({ method: 'GET', target }), { timeoutMs: 5000 });
      const res = outcome.kind === 'response' ? outcome.response : undefined;
      t.match(res?.status, /^(400|404)$/, `${target}: ${describeOutcome(outcome)}`);
      t.same(res && contractErrorProblems(res), [], `${target}: contract JSON`);
    }
    t.equal(upstreamHits(), 0, 'no API instance asked');
  });

  await t.test('/api/, /docs and /docs/json are routed, round-robin over both instances', async (t) => {
    const urls = ['/api/v1/products', '/api/v1/products', '/docs', '/docs/json'];
    const served = [];
    for (const url of urls) served.push((await call(base, 'GET', url)).body.upstream);
    t.same([...a.seen, ...b.seen].map((r) => r.url).sort(), [...urls].sort(), 'each reached an instance as it was');
    t.same(served, [served[0], served[1], served[0], served[1]], 'alternating');
    t.not(served[0], served[1]);
  });

  await t.test('x-request-id: made when missing, kept when sent and safe, replaced when not', async (t) => {
    const made = await call(base, 'GET', '/api/v1/products');
    t.match(made.headers['x-request-id'], /^[0-9a-f]{32}$/);
    const kept = await call(base, 'GET', '/api/v1/products', { headers: { 'x-request-id': 'client-id-1' } });
    t.equal(kept.headers['x-request-id'], 'client-id-1', 'the response carries it once');
    t.equal([...a.seen, ...b.seen].at(-1)?.headers['x-request-id'], 'client-id-1', 'the instance got it');
    const replaced = await call(base, 'GET', '/api/v1/products', {
      headers: { 'x-request-id': 'no spaces <allowed>' },
    });
    t.match(replaced.headers['x-request-id'], /^[0-9a-f]{32}$/);
    t.match(
      (await call(base, 'GET', '/metrics')).headers['x-request-id'],
      /^[0-9a-f]{32}$/,
      "on NGINX's own answers too",
    );
  });

  await t.test("the client's X-Forwarded-For is replaced by its real address", async (t) => {
    await call(base, 'GET', '/api/v1/products', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    t.equal([...a.seen, ...b.seen].at(-1)?.headers['x-forwarded-for'], '127.0.0.1');
  });

  await t.test('live stock streams pass through as they come, at most 100 per client address (then 429)', async (t) => {
    const url = `${base}/api/v1/products/p1/events`;
    const first = await SseClient.open(url, { 'x-fake': 'stream' });
    t.teardown(() => first.close());
    t.equal(first.status, 200);
    await first.until((c) => c.events.length >= 1, 1000, 'the first event, before the upstream wrote a second');
    const openedAt = Date.now();
    await first.until((c) => c.events.length >= 3, 2000, 'more events, each as written');
    t.ok(Date.now() - openedAt < 1500, 'not held back in a buffer');
    const more = await Promise.all(Array.from({ length: 99 }, () => SseClient.open(url, { 'x-fake': 'stream' })));
    t.teardown(() => more.forEach((c) => c.close()));
    t.ok(
      more.every((c) => c.status === 200),
      '100 streams from one address',
    );
    const refused = await SseClient.open(url, { 'x-fake': 'stream' });
    t.equal(refused.status, 429, 'the 101st: 429');
    t.match(refused.body, { statusCode: 429, code: 'RATE_LIMITED' });
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await SseClient.open(url, { 'x-fake': 'stream' });
    t.teardown(() => again.close());
    t.equal(again.status, 200, 'a stream closed frees its place');
  });

  await t.test('a body over the limit: 413 in the contract shape', async (t) => {
    const res = await call(base, 'POST', '/api/v1/products', { body: { name: 'x'.repeat(70_000) } });
    t.equal(res.status, 413);
    t.match(res.body, { statusCode: 413, code: 'PAYLOAD_TOO_LARGE', error: 'Payload Too Large' });
  });

  await t.test('stub_status on the internal port only', async (t) => {
    const res = await fetch(`${statusBase}/stub_status`);
    t.equal(res.status, 200);
    t.match(await res.text(), /^Active connections: \d+/);
    t.equal((await call(base, 'GET', '/stub_status')).status, 404, 'not on the public port');
    const other = await call(statusBase, 'GET', '/other');
    t.same([other.status, other.body], [404, NOT_FOUND], 'anything else there: 404 in the contract shape');
  });
});
