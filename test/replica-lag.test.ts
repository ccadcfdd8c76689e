import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../src/app.js';
import { call, createProduct, login, loginAdmin, startApp } from './helpers/app.js';
import { eventually } from './helpers/fixtures.js';
import { Redis } from 'ioredis';
import { adminAuth } from '../stack/helpers/redis-users.js';
import { startTestTopology } from './helpers/topology.js';

// A slow replica (the drill's `slow-replica`): one replica's process throttled — stopped 2.5 s of every 3 s —
// while purchases and catalog reads go on. WAIT still counts the good replica, catalog reads leave the throttled
// one within a probe or two and never wait on it, and it comes back once it keeps up.
const STOP_MS = 2500;
const RUN_MS = 500;
const THROTTLE_MS = 10_000;

const topo = await startTestTopology(t);
const { topology } = topo;
const app = await startApp(t, topo, { RATE_LIMIT_MAX: '10000000' });
const admin = await loginAdmin(app);
const buyer = await login(app, 'slow-replica-buyer');
const productId = await createProduct(app, admin.auth, { name: 'lagged', stock: 1_000_000 });

/** One sample from the app's own /metrics, as the drill reads it; 0 when the series is absent. */
async function metric(name: string, labels: string): Promise<number> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  const line = res.body.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line ? Number(line.split(' ')[1]) : 0;
}
const replicaReads = (node: string) => metric('evergreen_catalog_replica_reads_total', `replica="${node}"`);

const report = (a: App) => a.redis.replicaLag.report();
const readersOn = (a: App) => a.redis.replicas.map((r) => a.redis.replicaLag.nodeOf(r));

interface Traffic {
  purchases: Record<string, number>;
  reads: { start: number; ms: number; status: number }[];
}

/** A buyer and two readers (a product that every purchase changes, so reads miss the cache) until `stop`. */
function traffic(): { done: Promise<Traffic>; stop: () => void } {
  const result: Traffic = { purchases: {}, reads: [] };
  let running = true;
  const buy = async () => {
    for (let i = 0; running; i++) {
      const res = await call(app, 'POST', '/api/v1/purchases', {
        auth: buyer.auth,
        body: { productId, quantity: 1 },
        headers: { 'idempotency-key': `slow-${i}` },
      });
      result.purchases[res.status] = (result.purchases[res.status] ?? 0) + 1;
      await sleep(20);
    }
  };
  const read = async () => {
    while (running) {
      const start = Date.now();
      const res = await call(app, 'GET', `/api/v1/products/${productId}`);
      result.reads.push({ start, ms: Date.now() - start, status: res.status });
      await sleep(5);
    }
  };
  const done = Promise.all([buy(), read(), read()]).then(() => result);
  return { done, stop: () => (running = false) };
}

t.test('before any fault: both replicas in rotation, one reader on each', async (t) => {
  const settled = await eventually(
    async () => ({ nodes: report(app), on: new Set(readersOn(app)) }),
    ({ nodes, on }) => nodes.length === 2 && nodes.every((n) => !n.lagging) && on.size === 2,
    10_000,
  );
  t.equal(settled.on.size, 2, `readers on ${[...settled.on].join(', ')}`);
  t.ok(
    settled.nodes.every((n) => !n.lagging && n.lagSeconds < 1),
    JSON.stringify(settled.nodes),
  );
});

t.test('the probes: ROLE on the master and on each replica, 4 times a second', async (t) => {
  const { host, redisPorts } = topology.options;
  const roleCalls = async () => {
    let calls = 0;
    for (const port of redisPorts) {
      const node = new Redis({ host, port, ...adminAuth(topo.secrets), protocol: 2, lazyConnect: true });
      const info = await node.info('commandstats').finally(() => node.disconnect());
      calls += Number(/cmdstat_role:calls=(\d+)/.exec(info)?.[1] ?? 0);
    }
    return calls;
  };
  const before = { calls: await roleCalls(), at: Date.now() };
  await sleep(4000);
  const perSecond = ((await roleCalls()) - before.calls) / ((Date.now() - before.at) / 1000);
  t.comment(`ROLE calls per second on all nodes, one instance idle: ${perSecond.toFixed(1)}`);
  t.ok(perSecond >= 8 && perSecond <= 20, 'about 12: the master and two replicas, every 250 ms');
});

t.test(
  'a replica throttled (SIGSTOP 2.5 s of every 3 s): excluded fast, reads stay fast, WAIT still met',
  async (t) => {
    const victim = readersOn(app)[0]!;
    const port = Number(victim.slice(victim.lastIndexOf(':') + 1));
    const master = await topology.masterAddress();
    t.not(port, master.port, 'the victim is a replica');
    // Whatever happens, the victim runs again after this test (SIGCONT to a running process does nothing).
    t.teardown(() => topology.resume(port));

    const load = traffic();
    await sleep(1000);
    const readsBefore = await replicaReads(victim);
    const cacheDropsBefore = await metric('evergreen_cache_flushes_total', 'reason="replica-lag"');
    t.ok(readsBefore > 0, `the victim served reads before the fault (${readsBefore})`);

    const start = Date.now();
    let excludedAt: number | undefined;
    let readsAtExclusion = 0;
    const watchExclusion = (async () => {
      while (excludedAt === undefined && Date.now() - start < THROTTLE_MS) {
        if (
          (await metric('evergreen_replica_lagging', `replica="${victim}"`)) === 1 ||
          !readersOn(app).includes(victim)
        ) {
          excludedAt = Date.now();
          readsAtExclusion = await replicaReads(victim);
        } else await sleep(10);
      }
    })();
    const worstLag = { seconds: 0 };
    let lastResumeAt = start;
    while (Date.now() - start < THROTTLE_MS) {
      topology.pause(port);
      // Its reader's socket times out after 2 s of silence (then it moves): the gauge is read before that.
      await sleep(STOP_MS - 800);
      worstLag.seconds = Math.max(
        worstLag.seconds,
        await metric('evergreen_replica_lag_seconds', `replica="${victim}"`),
      );
      await sleep(800);
      topology.resume(port);
      lastResumeAt = Date.now();
      await sleep(RUN_MS);
    }
    await watchExclusion;
    const readsAfterThrottle = await replicaReads(victim);
    const resumedAt = lastResumeAt;
    let backAt: number | undefined;
    const back = await eventually(
      async () => {
        const on = readersOn(app).includes(victim);
        const lagging = report(app).find((n) => n.replica === victim)?.lagging ?? true;
        return on && !lagging;
      },
      (ok) => ok,
      8000,
    );
    if (back) backAt = Date.now();
    await sleep(500);
    load.stop();
    const result = await load.done;
    const readsAtEnd = await replicaReads(victim);

    t.ok(excludedAt !== undefined, 'the throttled replica was excluded');
    const exclusionMs = (excludedAt ?? Infinity) - start;
    t.comment(`excluded ${exclusionMs} ms after the first SIGSTOP; its reads ${readsBefore} → ${readsAtExclusion}`);
    t.ok(exclusionMs < 3000, `excluded within 3 s (${exclusionMs} ms)`);
    t.equal(readsAfterThrottle, readsAtExclusion, 'no catalog read was served by it after its exclusion');
    t.ok(worstLag.seconds >= 1, `its lag gauge grew with the stop (${worstLag.seconds} s after 1.7 s stopped)`);
    const cacheDrops = (await metric('evergreen_cache_flushes_total', 'reason="replica-lag"')) - cacheDropsBefore;
    t.ok(cacheDrops > 0, `what it had read into the cache was dropped when it was found lagging (${cacheDrops})`);

    const during = result.reads.filter((r) => r.start >= start && r.start < resumedAt);
    const afterExclusion = during.filter((r) => excludedAt !== undefined && r.start >= excludedAt);
    const slowest = Math.max(...afterExclusion.map((r) => r.ms));
    const slowestBefore = Math.max(0, ...during.filter((r) => !afterExclusion.includes(r)).map((r) => r.ms));
    t.comment(
      `${during.length} reads during the throttle, ${afterExclusion.length} after the exclusion: slowest ` +
        `${slowest} ms (before the exclusion: ${slowestBefore} ms); purchases ${JSON.stringify(result.purchases)}`,
    );
    t.ok(
      during.every((r) => r.status === 200),
      'every read during the throttle answered 200',
    );
    t.ok(afterExclusion.length > 100, 'reads kept coming');
    t.ok(slowest < 500, `every read after the exclusion answered within 500 ms (slowest ${slowest} ms)`);
    t.ok((result.purchases['201'] ?? 0) > 50, 'purchases acknowledged throughout: WAIT 1 counted the good replica');
    t.strictSame(Object.keys(result.purchases), ['201'], 'and nothing but 201');

    t.ok(back, 'the replica came back into rotation after SIGCONT for good');
    t.comment(`back in rotation ${(backAt ?? Infinity) - resumedAt} ms after the last SIGCONT`);
    t.ok(readsAtEnd > readsAfterThrottle, `and served reads again (${readsAtEnd - readsAfterThrottle})`);
  },
);
