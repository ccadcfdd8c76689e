import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { startTestTopology } from './helpers/topology.js';
import { call, createProduct, login, loginAdmin, startApp, type Call } from './helpers/app.js';
import { SseClient } from '../ops/live/sse-client.js';
import { adminAuth } from '../stack/helpers/redis-users.js';

// Live stock (server-sent events) against a real topology, two instances listening on loopback.
const topo = await startTestTopology(t);
const env = { RATE_LIMIT_MAX: '1000000', LOGIN_RATE_LIMIT_MAX: '1000' };
const a = await startApp(t, topo, env);
const b = await startApp(t, topo, env);
const baseOf = async (app: typeof a) => `${await app.listen({ host: '127.0.0.1', port: 0 })}/api/v1`;
const [baseA, baseB] = [await baseOf(a), await baseOf(b)];
const admin = await loginAdmin(a);
const buyer = await login(a, 'live-buyer');

const open = async (t: Test, url: string, headers: Record<string, string> = {}) => {
  const client = await SseClient.open(url, headers);
  t.teardown(() => client.close());
  return client;
};
const watch = (t: Test, base: string, id: string, headers?: Record<string, string>) =>
  open(t, `${base}/products/${id}/events`, headers);
const buy = (body: object, key?: string): Promise<Call> =>
  call(a, 'POST', '/api/v1/purchases', {
    auth: buyer.auth,
    body,
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  });
const patch = (id: string, body: object) => call(a, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body });
/** stock/price pairs of a client's `stock` events */
const states = (client: SseClient) => client.of('stock').map((e) => `${e.data.stock}@${e.data.priceCents}`);
const ids = (client: SseClient) => client.events.map((e) => e.id!);
const increasing = (list: string[]) => list.every((id, i) => i === 0 || compareStreamIds(list[i - 1]!, id) < 0);
function compareStreamIds(x: string, y: string): number {
  const [xm, xs] = x.split('-').map(BigInt) as [bigint, bigint];
  const [ym, ys] = y.split('-').map(BigInt) as [bigint, bigint];
  return xm === ym ? Number(xs - ys) : xm < ym ? -1 : 1;
}

t.test(
  'a stream starts with the product as it is, then every change once and in order, then its deletion',
  async (t) => {
    const id = await createProduct(a, admin.auth, { stock: 10, priceCents: 500 });
    const client = await watch(t, baseB, id);
    t.equal(client.status, 200);
    t.match(client.headers['content-type'], /^text\/event-stream/);
    await client.until((c) => c.events.length === 1, 5000, 'the snapshot');
    t.match(client.events[0], { event: 'stock', data: { productId: id, stock: 10, priceCents: 500, at: String } });
    const first = (await buy({ productId: id, quantity: 1 })).body;
    await buy({ productId: id, quantity: 2 });
    t.equal((await patch(id, { priceCents: 600 })).status, 200);
    t.equal((await call(a, 'POST', `/api/v1/purchases/${first.id}/cancel`, { auth: buyer.auth })).status, 200);
    t.equal((await patch(id, { name: 'renamed only' })).status, 200, 'a change of neither stock nor price');
    t.equal((await patch(id, { stock: 50 })).status, 200);
    await client.until((c) => c.of('stock').length === 6, 5000, 'six stock events');
    t.same(states(client), ['10@500', '9@500', '7@500', '7@600', '8@600', '50@600'], 'each change once, in order');
    t.ok(increasing(ids(client)), 'ids increase');
    t.equal((await call(a, 'DELETE', `/api/v1/products/${id}`, { auth: admin.auth })).status, 204);
    await client.until((c) => c.of('deleted').length === 1, 5000, 'the deletion');
    t.match(client.of('deleted')[0]!.data, { productId: id });
  },
);

t.test('a basket moves each product it holds; one stream watches several products', async (t) => {
  const p1 = await createProduct(a, admin.auth, { stock: 5, priceCents: 100 });
  const p2 = await createProduct(a, admin.auth, { stock: 7, priceCents: 200 });
  const other = await createProduct(a, admin.auth, { stock: 3 });
  const client = await open(t, `${baseA}/products/events?ids=${p1},${p2}`);
  await client.until((c) => c.events.length === 2, 5000, 'two snapshots');
  t.same(client.events.map((e) => e.data.productId).sort(), [p1, p2].sort());
  await buy({ productId: other, quantity: 1 });
  const basket = await buy({
    items: [
      { productId: p1, quantity: 2 },
      { productId: p2, quantity: 3 },
    ],
  });
  t.equal(basket.status, 201);
  await client.until((c) => c.events.length === 4, 5000, 'both lines');
  const moved = client.events.slice(2).map((e) => [e.data.productId, e.data.stock]);
  t.same(moved, [
    [p1, 3],
    [p2, 4],
  ]);
  t.notOk(
    client.events.some((e) => e.data.productId === other),
    'only the watched products',
  );
});

t.test('Last-Event-ID resumes after a drop, on either instance: every event since, none twice', async (t) => {
  const id = await createProduct(a, admin.auth, { stock: 100, priceCents: 100 });
  const first = await watch(t, baseA, id);
  await buy({ productId: id, quantity: 1 });
  await first.until((c) => c.events.length === 2, 5000, 'snapshot and a sale');
  const lastId = first.lastId!;
  first.close();
  for (let i = 0; i < 5; i++) await buy({ productId: id, quantity: 1 });
  const resumed = await watch(t, baseB, id, { 'last-event-id': lastId });
  await resumed.until((c) => c.events.length === 5, 5000, 'the five missed');
  t.same(
    resumed.events.map((e) => `${e.event} ${e.data.stock}`),
    ['stock 98', 'stock 97', 'stock 96', 'stock 95', 'stock 94'],
    'no snapshot: exactly the missed events',
  );
  t.ok(increasing([lastId, ...ids(resumed)]));
  await buy({ productId: id, quantity: 1 });
  await resumed.until((c) => c.events.length === 6, 5000, 'live after the catch-up');
  t.equal(resumed.events.at(-1)!.data.stock, 93);

  // Nothing missed: a resumed stream that has nothing to say is open all the same.
  const quiet = await watch(t, baseA, id, { 'last-event-id': resumed.lastId! });
  t.equal(quiet.status, 200);
  await buy({ productId: id, quantity: 1 });
  await quiet.until((c) => c.events.length === 1, 5000, 'the next sale');
  t.equal(quiet.events[0]!.data.stock, 92);
});

t.test('a Last-Event-ID the stream cannot answer: reset, then the product as it is', async (t) => {
  const id = await createProduct(a, admin.auth, { stock: 3, priceCents: 100 });
  for (const lastEventId of ['not-an-id', '99999999999999-0']) {
    const client = await watch(t, baseA, id, { 'last-event-id': lastEventId });
    await client.until((c) => c.events.length === 2, 5000, 'reset and snapshot');
    t.same(
      client.events.map((e) => e.event),
      ['reset', 'stock'],
      `${lastEventId}: reset, then a snapshot`,
    );
    t.equal(client.events[1]!.data.stock, 3);
  }
});

t.test('events trimmed away (STOCK_EVENTS_MAXLEN): a resume gets reset and a snapshot', async (t) => {
  const short = await startApp(t, topo, { ...env, STOCK_EVENTS_MAXLEN: '10' });
  const base = await baseOf(short);
  const id = await createProduct(short, admin.auth, { stock: 1000, priceCents: 100 });
  const client = await watch(t, base, id);
  await client.until((c) => c.events.length === 1, 5000, 'the snapshot');
  const early = client.lastId!;
  client.close();
  // MAXLEN ~ trims whole nodes of 100 entries: well past that many.
  for (let i = 0; i < 300; i++) {
    const res = await call(short, 'PATCH', `/api/v1/products/${id}`, { auth: admin.auth, body: { stock: 2000 + i } });
    if (res.status !== 200) throw new Error(`patch ${res.status}`);
  }
  const resumed = await watch(t, base, id, { 'last-event-id': early });
  await resumed.until((c) => c.events.length === 2, 5000, 'reset and snapshot');
  t.same(
    resumed.events.map((e) => e.event),
    ['reset', 'stock'],
  );
  t.equal(resumed.events[1]!.data.stock, 2299);
});

t.test('unknown products are 404, bad ids 400, nothing streamed', async (t) => {
  const id = await createProduct(a, admin.auth, { stock: 1 });
  const unknown = '01900000-0000-7000-8000-0000000000ff';
  const missing = await SseClient.open(`${baseA}/products/${unknown}/events`);
  t.equal(missing.status, 404);
  t.match(missing.body, { statusCode: 404, code: 'PRODUCT_NOT_FOUND' });
  const oneMissing = await SseClient.open(`${baseA}/products/events?ids=${id},${unknown}`);
  t.match(oneMissing.body, { code: 'PRODUCT_NOT_FOUND' });
  for (const query of ['', 'ids=', `ids=${id},${id}`, `ids=${Array(101).fill(id).join(',')}`, `ids=${id},,x`]) {
    const bad = await SseClient.open(`${baseA}/products/events?${query}`);
    t.equal(bad.status, 400, query);
    t.match(bad.body, { code: 'VALIDATION_ERROR' }, query);
  }
});

t.test('the ceiling: SSE_MAX_CLIENTS streams, then 503 TOO_MANY_STREAMS with retry-after', async (t) => {
  const small = await startApp(t, topo, { ...env, SSE_MAX_CLIENTS: '2' });
  const base = await baseOf(small);
  const id = await createProduct(small, admin.auth, { stock: 1 });
  const one = await watch(t, base, id);
  await watch(t, base, id);
  const refused = await SseClient.open(`${base}/products/${id}/events`);
  t.equal(refused.status, 503);
  t.match(refused.body, { code: 'TOO_MANY_STREAMS' });
  t.ok(Number(refused.headers['retry-after']) > 0, 'retry-after');
  one.close();
  const again = await new Promise<SseClient>((resolve, reject) => {
    const attempt = async (left: number) => {
      const client = await SseClient.open(`${base}/products/${id}/events`);
      if (client.status === 200) return resolve(client);
      if (left === 0) return reject(new Error(`still ${client.status}`));
      setTimeout(() => void attempt(left - 1), 50);
    };
    void attempt(40);
  });
  t.teardown(() => again.close());
  t.equal(again.status, 200, 'a stream closed frees its place');
});

t.test('200 watchers cost one Redis connection per instance; heartbeats keep quiet streams alive', async (t) => {
  const beating = await startApp(t, topo, { ...env, SSE_HEARTBEAT_MS: '200' });
  const base = await baseOf(beating);
  const id = await createProduct(beating, admin.auth, { stock: 1000 });
  const clients = await Promise.all(Array.from({ length: 200 }, () => watch(t, base, id)));
  await Promise.all(clients.map((c) => c.until((x) => x.events.length === 1, 10_000, 'a snapshot')));
  await buy({ productId: id, quantity: 1 });
  await Promise.all(clients.map((c) => c.until((x) => x.events.length === 2, 10_000, 'the sale')));
  t.ok(
    clients.every((c) => c.events[1]!.data.stock === 999),
    'every watcher got the sale',
  );
  await clients[0]!.until((c) => c.comments >= 2, 5000, 'heartbeats');
  const { host, redisPorts } = topo.topology.options;
  let tails = 0;
  for (const port of redisPorts) {
    const node = new Redis({ host, port, ...adminAuth(topo.secrets), lazyConnect: true });
    await node.connect();
    const list = await node.client('LIST');
    node.disconnect();
    tails += String(list)
      .split('\n')
      .filter((line) => line.includes('name=evergreen-stock-tail')).length;
  }
  t.equal(tails, 3, 'one tail per instance (three run now), whatever the number of streams');
  const metrics = (await beating.inject({ method: 'GET', url: '/metrics' })).body;
  t.match(metrics, /^evergreen_sse_streams 200$/m);
  t.match(metrics, /^evergreen_sse_events_total\{type="stock"\} 400$/m);
});

t.test('closing an instance ends its open streams at once (the client resumes elsewhere)', async (t) => {
  const closing = await startApp(t, topo, env);
  const base = await baseOf(closing);
  const id = await createProduct(closing, admin.auth, { stock: 1 });
  const clients = await Promise.all([watch(t, base, id), watch(t, base, id)]);
  await Promise.all(clients.map((c) => c.until((x) => x.events.length === 1, 5000, 'a snapshot')));
  const started = Date.now();
  await closing.close();
  t.ok(Date.now() - started < 3000, `closed in ${Date.now() - started} ms, streams and all`);
  await Promise.all(clients.map((c) => c.until((x) => x.ended, 2000, 'the end of the stream')));
  t.ok(
    clients.every((c) => c.ended),
    'every stream ended',
  );
});
