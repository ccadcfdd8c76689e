import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../src/app.js';
import { adminAuth } from '../stack/helpers/redis-users.js';
import { call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';
import { eventually } from './helpers/fixtures.js';
import { startTestTopology } from './helpers/topology.js';

// The client-side cache (src/redis/cache) under real faults: a writer buys on instance A, readers read the same
// product on instance B (which serves it from its cache), and no read may miss a purchase acknowledged more than
// DELAY_MS before the read started: the documented bound, "never more than a second", whatever breaks.
const DELAY_MS = 1000;
const INITIAL_STOCK = 1_000_000;
const READERS = 4;

const topo = await startTestTopology(t);
const { topology } = topo;
const { host, redisPorts } = topology.options;
const env = { RATE_LIMIT_MAX: '10000000', LOGIN_RATE_LIMIT_MAX: '1000' };
const a = await startApp(t, topo, env);
const b = await startApp(t, topo, env);
const admin = await loginAdmin(a);
const buyer = await login(a, 'cache-fault-buyer');

/** An admin connection to each node itself (not through Sentinel): CLIENT LIST and CLIENT KILL are per node. */
const nodeAdmins = redisPorts.map((port) => {
  const client = new Redis({ host, port, ...adminAuth(topo.secrets), protocol: 2, commandTimeout: 2000 });
  client.on('error', () => undefined);
  t.teardown(() => client.disconnect());
  return client;
});

/** One sample of a counter from the app's own /metrics, as Prometheus scrapes it. */
async function metric(app: App, name: string, label: string): Promise<number> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  const line = res.body.split('\n').find((l) => l.startsWith(`${name}{${label}} `));
  if (!line) throw new Error(`no ${name}{${label}} in /metrics`);
  return Number(line.split(' ')[1]);
}
const hits = (app: App) => metric(app, 'evergreen_cache_hits_total', 'kind="product"');
const flushes = (app: App, reason: string) => metric(app, 'evergreen_cache_flushes_total', `reason="${reason}"`);
const REASONS = ['reader-reconnect', 'invalidation-lost', 'invalidation-silent', 'switch-master', 'fence', 'flushdb'];
const allFlushes = async (app: App) =>
  Object.fromEntries(await Promise.all(REASONS.map(async (r) => [r, await flushes(app, r)] as const)));
const flushDiff = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(REASONS.map((r) => [r, after[r]! - before[r]!]).filter(([, n]) => n !== 0));

const trustedOn = (app: App, timeoutMs: number) =>
  eventually(
    async () => app.redis.cache.trustedLinks(),
    (n) => n === 3,
    timeoutMs,
  );

interface Load {
  /** When each 201 was received, in order (one writer, one unit at a time). */
  acks: number[];
  attempts: number;
  writes: Record<string, number>;
  /** Each 200: when its request started, and the stock it showed. */
  reads: { start: number; stock: number }[];
  failedReads: Record<string, number>;
}

const tally = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

/** A fresh product; the writer on A and READERS readers on B run for 1 s, across `fault`, then 1.5 s more. */
async function underLoad(tag: string, fault: () => Promise<void>): Promise<Load> {
  const productId = await createProduct(a, admin.auth, { name: tag, stock: INITIAL_STOCK });
  const load: Load = { acks: [], attempts: 0, writes: {}, reads: [], failedReads: {} };
  let running = true;
  const writer = async () => {
    for (let i = 0; running; i++) {
      load.attempts += 1;
      const res = await call(a, 'POST', '/api/v1/purchases', {
        auth: buyer.auth,
        body: { productId, quantity: 1 },
        headers: { 'idempotency-key': `${tag}-${i}` },
      });
      tally(load.writes, String(res.status));
      if (res.status === 201) load.acks.push(Date.now());
      else await sleep(50);
    }
  };
  const reader = async () => {
    while (running) {
      const start = Date.now();
      const res = await call(b, 'GET', `/api/v1/products/${productId}`);
      if (res.status === 200) load.reads.push({ start, stock: res.body.stock });
      else tally(load.failedReads, String(res.status));
      await yieldToIo(); // cache hits never touch a socket: let the heartbeats and invalidations in
    }
  };
  const loops = [writer(), ...Array.from({ length: READERS }, reader)];
  try {
    await sleep(1000);
    await fault();
    await sleep(1500);
  } finally {
    running = false;
    await Promise.all(loops);
  }
  return load;
}

/** The invariant, checked on every read; the worst staleness seen is reported. Returns the failed reads. */
function checkReads(t: Test, name: string, load: Load): number {
  let worst = 0;
  let late = 0;
  let overcounted = 0;
  for (const read of load.reads) {
    const applied = INITIAL_STOCK - read.stock;
    if (applied > load.attempts) overcounted += 1;
    // Purchases apply in the order they were acknowledged: the read cannot contain acknowledgement #applied.
    const missing = load.acks[applied];
    if (missing === undefined || missing >= read.start) continue;
    worst = Math.max(worst, read.start - missing);
    if (read.start - missing >= DELAY_MS) late += 1;
  }
  const failed = Object.values(load.failedReads).reduce((sum, n) => sum + n, 0);
  t.comment(
    `${name}: ${load.acks.length} purchases acknowledged of ${load.attempts} (${JSON.stringify(load.writes)}); ` +
      `${load.reads.length} reads answered, ${failed} failed ${JSON.stringify(load.failedReads)}; ` +
      `worst staleness ${worst} ms, ${late} reads over ${DELAY_MS} ms`,
  );
  t.ok(load.acks.length >= 20, `the writer got purchases acknowledged (${load.acks.length})`);
  t.ok(load.reads.length >= 300, `the readers got answers (${load.reads.length})`);
  t.equal(overcounted, 0, 'no read shows more purchases than were sent');
  t.ok(worst < DELAY_MS, `no read missed a purchase acknowledged ${DELAY_MS} ms before it started (worst ${worst} ms)`);
  return failed;
}

/** B's invalidation connections: CLIENT LIST on every node, the ones B's tracked readers redirect to. */
async function killInvalidationConnections(app: App): Promise<number> {
  const readers = [...app.redis.replicas, app.redis.authReader];
  const addrs = new Set(readers.map((r) => `${r.stream.localAddress}:${r.stream.localPort}`));
  let killed = 0;
  for (const node of nodeAdmins) {
    const clients = String(await node.call('CLIENT', 'LIST'))
      .trim()
      .split('\n')
      .map((line) =>
        Object.fromEntries(line.split(' ').map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)])),
      );
    const redirs = new Set(clients.filter((c) => addrs.has(c.addr!)).map((c) => c.redir));
    for (const c of clients.filter((c) => redirs.has(c.id) && c.name === 'evergreen-invalidations')) {
      await node.call('CLIENT', 'KILL', 'ID', c.id!);
      killed += 1;
    }
  }
  return killed;
}

t.test('before any fault: three trusted links per instance', async (t) => {
  t.equal(await trustedOn(a, 5000), 3, 'A: two replica readers and the auth reader');
  t.equal(await trustedOn(b, 5000), 3, 'B: likewise');
});

t.test("CLIENT KILL of B's invalidation connections: flushed, re-made, never stale", async (t) => {
  const before = { b: await allFlushes(b), a: await allFlushes(a), hits: await hits(b) };
  let killed = 0;
  let back = 0;
  const load = await underLoad('kill-invalidations', async () => {
    killed = await killInvalidationConnections(b);
    const at = Date.now();
    await trustedOn(b, 3000);
    back = Date.now() - at;
  });
  const after = { b: await allFlushes(b), a: await allFlushes(a), hits: await hits(b) };
  t.comment(
    `killed ${killed}; trusted again after ${back} ms; B's flushes ${JSON.stringify(flushDiff(before.b, after.b))}`,
  );
  t.equal(killed, 3, "one invalidation connection per tracked reader of B, found by the readers' redirect");
  checkReads(t, 'kill', load);
  t.ok(after.b['invalidation-lost']! > before.b['invalidation-lost']!, 'B flushed for invalidation-lost');
  t.equal(after.a['invalidation-lost'], before.a['invalidation-lost'], "A's own links were not touched");
  t.equal(b.redis.cache.trustedLinks(), 3, 'B trusts its three links again');
  t.ok(after.hits > before.hits, `B served hits (${after.hits - before.hits})`);
});

t.test('each replica paused for 3 s in turn: reads keep answering, never stale', async (t) => {
  const master = await topology.masterAddress();
  const paused = new Set<number>();
  t.teardown(() => paused.forEach((port) => topology.resume(port)));
  const before = { b: await allFlushes(b), hits: await hits(b) };
  const readersAt = () => b.redis.replicas.map((r) => r.stream?.remotePort).join(', ');
  const load = await underLoad('pause-replicas', async () => {
    for (const port of redisPorts.filter((p) => p !== master.port)) {
      t.comment(`pausing ${port} (master ${master.port}); B's replica readers are on ${readersAt()}`);
      topology.pause(port);
      paused.add(port);
      await sleep(3000);
      topology.resume(port);
      paused.delete(port);
      await topology.waitForReplicaOf(port, master.port, 15_000);
      await trustedOn(b, 5000);
    }
  });
  const after = { b: await allFlushes(b), hits: await hits(b) };
  t.comment(`B's flushes ${JSON.stringify(flushDiff(before.b, after.b))}; hits ${after.hits - before.hits}`);
  const failed = checkReads(t, 'pause replicas', load);
  t.ok(failed <= load.reads.length / 20, `most reads succeed (${failed} failed of ${failed + load.reads.length})`);
  const silent = after.b['invalidation-silent']! - before.b['invalidation-silent']!;
  t.ok(silent > 0, `B flushed when a paused replica's link went silent (SILENT_MS) (${silent})`);
  t.equal(b.redis.cache.trustedLinks(), 3, 'B trusts its three links again');
  t.ok(after.hits > before.hits, 'B served hits');
});

t.test('a failover under catalog load: flushed on the switch, never stale, caching again after', async (t) => {
  const old = await topology.masterAddress();
  let resumed = true;
  t.teardown(() => {
    if (!resumed) topology.resume(old.port);
  });
  const before = { b: await allFlushes(b) };
  let afterRejoin = { hits: 0, at: 0 };
  const load = await underLoad('failover', async () => {
    topology.pause(old.port);
    resumed = false;
    const promoted = await topology.waitForFailover(old.port, 20_000);
    t.not(promoted.port, old.port, 'a replica was promoted');
    topology.resume(old.port);
    resumed = true;
    await topology.waitForReplicaOf(old.port, promoted.port, 40_000);
    t.equal(await trustedOn(b, 10_000), 3, 'B trusts three links again once the old master rejoined');
    afterRejoin = { hits: await hits(b), at: Date.now() };
  });
  const after = { b: await allFlushes(b), hits: await hits(b) };
  t.comment(`B's flushes ${JSON.stringify(flushDiff(before.b, after.b))}`);
  const failed = checkReads(t, 'failover', load);
  t.ok(failed <= load.reads.length / 20, `most reads succeed (${failed} failed of ${failed + load.reads.length})`);
  const switched = after.b['switch-master']! - before.b['switch-master']!;
  const fenced = after.b.fence! - before.b.fence!;
  t.ok(switched + fenced > 0, `B flushed on the switch (switch-master ${switched}, fence ${fenced})`);
  t.ok(after.hits > afterRejoin.hits, `hits again after the rejoin (${after.hits - afterRejoin.hits})`);
  const late = load.reads.filter((r) => r.start > afterRejoin.at);
  t.ok(late.length > 0, `reads after the rejoin (${late.length})`);
});
