import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { Redis } from 'ioredis';
import { startTestTopology } from './helpers/topology.js';
import { adminAuth } from '../stack/helpers/redis-users.js';
import { call, createProduct, login, loginAdmin, startApp, type Call } from './helpers/app.js';
import { ResumingWatcher, type SseEvent } from '../ops/live/sse-client.js';

// Live stock under faults: a watcher that resumes as EventSource does (Last-Event-ID, alternating instances)
// while buyers purchase through the other instance and the master is paused past down-after, or killed.
// Judged against the stream itself, read from the master afterwards: every event of the watched products that
// the stream holds reached the watcher once and in order, and the stream holds one event per stored purchase line.
const topo = await startTestTopology(t);
const { topology } = topo;
const env = { RATE_LIMIT_MAX: '1000000', LOGIN_RATE_LIMIT_MAX: '1000' };
const a = await startApp(t, topo, env);
const b = await startApp(t, topo, env);
const baseOf = async (app: typeof a) => `${await app.listen({ host: '127.0.0.1', port: 0 })}/api/v1`;
const bases = [await baseOf(b), await baseOf(a)];
const appAt = new Map([
  [bases[0]!, b],
  [bases[1]!, a],
]);
const admin = await loginAdmin(a);
const buyer = await login(a, 'live-fault-buyer');
let redis: Redis;
/** A client of the master the Sentinels name now (a Sentinel-based client may stay on a node a failover demoted). */
async function onMaster(): Promise<void> {
  redis?.disconnect();
  const { host, port } = await topology.masterAddress();
  redis = new Redis({ host, port, ...adminAuth(topo.secrets), lazyConnect: true });
  await redis.connect();
}
t.teardown(() => redis?.disconnect());
const keys = a.redis.keys;

interface Load {
  acknowledged: string[];
  unknown: number;
  stop: () => Promise<void>;
}

/** Buyers on A, each purchase keyed and retried with its key on 5xx and connection errors, until told to stop. */
function buy(products: string[], buyers = 4): Load {
  const load = { acknowledged: [] as string[], unknown: 0 };
  let stopping = false;
  const one = async () => {
    const key = randomUUID();
    const productId = products[Math.floor(Math.random() * products.length)]!;
    for (let attempt = 0; attempt < 200; attempt++) {
      let res: Call | undefined;
      try {
        res = await call(a, 'POST', '/api/v1/purchases', {
          auth: buyer.auth,
          body: { productId, quantity: 1 },
          headers: { 'idempotency-key': key },
        });
      } catch {
        res = undefined;
      }
      if (res?.status === 201) return void load.acknowledged.push(res.body.id as string);
      if (res && res.status < 500 && res.status !== 409) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    load.unknown++;
  };
  const loops = Array.from({ length: buyers }, async () => {
    while (!stopping) await one();
  });
  return {
    ...load,
    get acknowledged() {
      return load.acknowledged;
    },
    get unknown() {
      return load.unknown;
    },
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** The stream's entries of these products after `after`, read from the master. */
async function streamOf(products: string[], after: string): Promise<{ id: string; productId: string }[]> {
  const entries = await redis.xrange(keys.stockEvents(), `(${after}`, '+');
  return entries
    .map(([id, fields]) => ({ id, productId: fields[fields.indexOf('p') + 1]! }))
    .filter((e) => products.includes(e.productId));
}

/** Stored purchases made since `since` (a UUIDv7 taken before the load), per product. */
async function storedLines(since: string): Promise<Map<string, number>> {
  const ids = await redis.zrange(keys.purchaseIndex(), `(${since}`, '+', 'BYLEX');
  const counts = new Map<string, number>();
  for (const id of ids) {
    const productId = await redis.hget(keys.purchase(id), 'productId');
    if (productId) counts.set(productId, (counts.get(productId) ?? 0) + 1);
  }
  return counts;
}

async function judge(t: Test, watcher: ResumingWatcher, products: string[], start: string, since: string, load: Load) {
  await onMaster();
  const truth = await streamOf(products, start);
  // Caught up: the watcher has the stream's last entry of its products.
  const last = truth.at(-1)?.id;
  if (last) await watcher.until((w) => w.events.some((e) => e.id === last), 15_000, 'the last event');
  await watcher.stop();
  const changes = watcher.events.filter((e) => e.event === 'stock' && e.id !== start);
  const got = changes.map((e: SseEvent) => e.id!);
  const truthIds = truth.map((e) => e.id);
  const missing = truthIds.filter((id) => !got.includes(id));
  const twice = got.filter((id, i) => got.indexOf(id) !== i);
  const inTruth = got.filter((id) => truthIds.includes(id));
  const extra = got.length - inTruth.length;
  t.comment(
    `${load.acknowledged.length} purchases acknowledged (${load.unknown} unknown); the stream holds ` +
      `${truth.length} events of the watched products; the watcher got ${got.length} over ` +
      `${watcher.connections} connections (${extra} of a discarded history, ${watcher.of('reset').length} resets, ` +
      `refused ${watcher.refusals.length}×)`,
  );
  t.same(missing, [], 'every event the stream holds reached the watcher');
  t.same(twice, [], 'none twice');
  t.same(inTruth, truthIds, 'in the stream’s order');
  t.equal(watcher.of('reset').length, 0, 'no reset: every resume found its place');
  const lines = await storedLines(since);
  for (const productId of products) {
    const events = truth.filter((e) => e.productId === productId).length;
    t.equal(events, lines.get(productId) ?? 0, `one event per stored purchase of ${productId.slice(-6)}`);
  }
  for (const id of load.acknowledged) {
    if (!(await redis.exists(keys.purchase(id)))) t.fail(`acknowledged purchase ${id} is gone`);
  }
}

async function scene(t: Test, fault: (master: number, watcher: ResumingWatcher) => Promise<void>) {
  const products = [];
  for (let i = 0; i < 3; i++) products.push(await createProduct(a, admin.auth, { stock: 1_000_000 }));
  const watcher = new ResumingWatcher(bases, `/products/events?ids=${products.join(',')}`);
  t.teardown(() => watcher.stop());
  await watcher.until((w) => w.events.length >= 3, 10_000, 'the snapshot');
  const start = watcher.events[0]!.id!;
  const since = uuidv7();
  const load = buy(products);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  // A dropped connection on the way: the watcher resumes on the other instance.
  watcher.drop();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const master = await topology.masterAddress();
  await fault(master.port, watcher);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await load.stop();
  t.ok(load.acknowledged.length > 0, 'purchases were acknowledged');
  await judge(t, watcher, products, start, since, load);
}

t.test('the master paused past down-after (a failover): every event delivered, none twice', async (t) => {
  await scene(t, async (port) => {
    topology.pause(port);
    try {
      const promoted = await topology.waitForFailover(port, 20_000);
      t.not(promoted.port, port, 'a replica was promoted');
    } finally {
      topology.resume(port);
    }
    await topology.waitForReplicaOf(port, (await topology.masterAddress()).port, 40_000);
  });
});

t.test('the master killed (a failover), then restarted as a replica: every event delivered, none twice', async (t) => {
  await scene(t, async (port) => {
    await topology.kill(port, 'SIGKILL');
    const promoted = await topology.waitForFailover(port, 20_000);
    await topology.restart(port);
    await topology.waitForReplicaOf(port, promoted.port, 40_000);
  });
});

t.test("an instance's connections cut under load: the watcher resumes on the other, missing nothing", async (t) => {
  await scene(t, async (_, watcher) => {
    const connections = watcher.connections;
    appAt.get(watcher.currentBase!)!.server.closeAllConnections();
    await watcher.until((w) => w.connections > connections, 5000, 'the resume');
    t.not(watcher.currentBase, undefined);
  });
});
