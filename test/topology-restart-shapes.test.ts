import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { stateLayout } from '../stack/layout.js';
import { adminAuth, generateRedisSecrets, sentinelAuth } from '../stack/helpers/redis-users.js';
import { readSentinelView, setReplicaOf } from '../stack/topology/saved-roles.js';
import { startTopology, type Topology, type TopologyOptions } from '../stack/topology/topology.js';
import { freePorts, tempDir } from './helpers/fixtures.js';

// A stopped topology saved in every shape a real one can be left in; each start must converge with all data.
const KEYS = 200;

t.test('a topology that holds data always starts again, whatever replication shape it saved', async (t) => {
  let topology: Topology | undefined;
  const dir = await tempDir(t, 'shapes', async () => topology?.stop());
  const ports = await freePorts(7);
  const [a, b, c] = ports.slice(0, 3) as [number, number, number];
  const secrets = generateRedisSecrets();
  const lines: string[] = [];
  const options: TopologyOptions = {
    dir,
    redisPorts: [a, b, c],
    sentinelPorts: ports.slice(3, 6),
    downAfterMs: 1000,
    failoverTimeoutMs: 3000,
    secrets,
    log: (line) => lines.push(line),
  };
  const layout = stateLayout(dir);
  const host = '127.0.0.1';
  const client = (port: number, auth = adminAuth(secrets)) =>
    new Redis({ host, port, ...auth, protocol: 2, commandTimeout: 2000, maxRetriesPerRequest: 0, lazyConnect: true });
  const ask = async (port: number, args: string[], auth = adminAuth(secrets)) => {
    const c = client(port, auth);
    try {
      return await c.call(args[0] as string, ...args.slice(1));
    } finally {
      c.disconnect();
    }
  };

  /** Starts the topology again and checks: one master, every running node its replica, every key everywhere. */
  const restartAndCheck = async (t: Test, want: { master?: number; down?: number[] } = {}) => {
    lines.length = 0;
    const startedAt = Date.now();
    topology = await startTopology(options);
    t.comment(`started in ${Date.now() - startedAt} ms:\n${lines.join('\n')}`);
    const master = await topology.masterAddress();
    if (want.master !== undefined) t.equal(master.port, want.master, `the master is redis-${want.master}`);
    const running = [a, b, c].filter((port) => !(want.down ?? []).includes(port));
    for (const port of running) {
      const role = (await ask(port, ['ROLE'])) as unknown[];
      if (port === master.port) t.equal(role[0], 'master', `redis-${port} is the master`);
      else t.same(role.slice(0, 4), ['slave', host, master.port, 'connected'], `redis-${port} replicates it directly`);
      t.equal(await ask(port, ['DBSIZE']), KEYS, `redis-${port} holds every key`);
    }
    for (const port of options.sentinelPorts) {
      const named = await ask(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'evergreen'], sentinelAuth(secrets));
      t.same(named, [host, String(master.port)], `sentinel-${port} names it`);
    }
    return master.port;
  };
  const stop = async () => {
    await topology?.stop();
    topology = undefined;
  };

  topology = await startTopology(options);
  const writer = client(a);
  for (let i = 0; i < KEYS; i++) await writer.set(`shape:${i}`, String(i));
  t.equal(await writer.wait(2, 5000), 2, 'every key reached both replicas');
  writer.disconnect();
  await stop();

  await t.test('a chain: replica → replica → master', async (t) => {
    await setReplicaOf(layout.redis(b), host, a);
    await setReplicaOf(layout.redis(c), host, b);
    await restartAndCheck(t, { master: a });
    t.ok(
      lines.some((l) => l.includes(`redis-${c}: saved as replica of redis-${b}; starts as replica of redis-${a}`)),
      'the repair is said',
    );
    await stop();
  });

  await t.test('two nodes that each say master', async (t) => {
    await setReplicaOf(layout.redis(b), host, undefined);
    await restartAndCheck(t, { master: a });
    await stop();
  });

  await t.test('a node whose master no longer exists', async (t) => {
    await setReplicaOf(layout.redis(c), host, ports[6] as number);
    await restartAndCheck(t, { master: a });
    await stop();
  });

  await t.test('after a failover the Sentinels saved, the promoted node stays master', async (t) => {
    topology = await startTopology(options);
    topology.pause(a);
    const promoted = await topology.waitForFailover(a, 20_000);
    topology.resume(a);
    await topology.waitForReplicaOf(a, promoted.port, 30_000);
    await stop();
    // The configs as a crash would leave them: the old master still saying master.
    await setReplicaOf(layout.redis(a), host, undefined);
    await restartAndCheck(t, { master: promoted.port });
    await stop();
  });

  await t.test('a replica whose folder is gone is made again and resyncs', async (t) => {
    const master = await currentSentinelMaster();
    const victim = [a, b, c].find((port) => port !== master) as number;
    await rm(layout.redis(victim).dir, { recursive: true });
    await restartAndCheck(t, { master });
    await stop();
  });

  await t.test("the master's folder gone: a node with data is master, never the empty one", async (t) => {
    const master = await currentSentinelMaster();
    await rm(layout.redis(master).dir, { recursive: true });
    const now = await restartAndCheck(t);
    t.not(now, master, 'the wiped node is not the master');
    t.ok(
      lines.some((l) => l.includes('holds no data')),
      'it says why the Sentinels were overruled',
    );
    await stop();
  });

  await t.test('a node whose data is unreadable: the stack starts degraded and says so', async (t) => {
    const master = await currentSentinelMaster();
    const victim = [a, b, c].find((port) => port !== master) as number;
    const aofDir = path.join(layout.redis(victim).dir, 'appendonlydir');
    await corrupt(aofDir);
    await restartAndCheck(t, { master, down: [victim] });
    t.ok(
      lines.some((l) => l.startsWith('DEGRADED: 1 Redis node down')),
      'it says it is degraded',
    );
    await stop();

    // The repair the report gives: its data moved aside, it resyncs from the master.
    const aside = path.join(dir, 'aside');
    await mkdir(aside);
    await rename(aofDir, path.join(aside, 'appendonlydir'));
    await restartAndCheck(t, { master });
    await stop();
  });

  await t.test("the master's data unreadable: a replica with data takes its place, degraded and said", async (t) => {
    const master = await currentSentinelMaster();
    const aofDir = path.join(layout.redis(master).dir, 'appendonlydir');
    await corrupt(aofDir);
    const now = await restartAndCheck(t, { down: [master] });
    t.not(now, master, 'another node is master');
    t.ok(
      lines.some((l) =>
        l.includes(`redis-${master}, the planned master, could not start: redis-${now} takes its place`),
      ),
      'it says which node took its place',
    );
    await stop();
    // Repaired as the report says: it then resyncs from the new master as its replica.
    await rename(aofDir, path.join(dir, 'aside', 'master-appendonlydir'));
    await restartAndCheck(t, { master: now });
    await stop();
  });

  /** Overwrites the AOF base's header: Redis refuses to load it and exits at start. */
  async function corrupt(aofDir: string): Promise<void> {
    const base = (await readdir(aofDir)).find((f) => f.endsWith('.base.rdb')) as string;
    const file = await open(path.join(aofDir, base), 'r+');
    await file.write('NOT-AN-RDB', 0);
    await file.close();
  }

  async function currentSentinelMaster(): Promise<number> {
    const view = await readSentinelView(layout.sentinel(options.sentinelPorts[0] as number), 'evergreen');
    return view?.port as number;
  }
});
