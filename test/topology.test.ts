import t from 'tap';
import { Redis } from 'ioredis';
import { adminAuth, sentinelAuth, type RedisAuth } from '../stack/helpers/redis-users.js';
import { startTestTopology } from './helpers/topology.js';
import { waitFor } from './helpers/fixtures.js';

t.test('a 3-node, 3-Sentinel topology replicates, fails over and stops clean', async (t) => {
  const startingAt = Date.now();
  const { topology, secrets } = await startTestTopology(t);
  t.comment(`topology up in ${Date.now() - startingAt} ms`);
  const { host, redisPorts, sentinelPorts, masterName } = topology.options;
  const connect = (port: number, auth: RedisAuth = adminAuth(secrets)) => {
    const client = new Redis({
      host,
      port,
      ...auth,
      protocol: 2,
      commandTimeout: 1000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    t.teardown(() => client.disconnect());
    return client;
  };

  const [first, ...replicas] = redisPorts;
  let masterPort = first as number;

  await t.test('the master takes a write and both replicas get it', async (t) => {
    const master = await topology.masterAddress();
    t.same(master, { host, port: first });
    const client = connect(master.port);
    t.equal(await client.set('topology:probe', 'before'), 'OK');
    t.equal(await client.wait(2, 2000), 2, 'WAIT 2: both replicas acknowledged');
    for (const port of replicas) t.equal(await connect(port).get('topology:probe'), 'before', `replica ${port} has it`);
    client.disconnect(); // before the master is paused: a command to it would hang
  });

  await t.test('every Sentinel names the same master', async (t) => {
    for (const port of sentinelPorts) {
      const named = await connect(port, sentinelAuth(secrets)).call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName);
      t.same(named, [host, String(masterPort)], `Sentinel ${port}`);
    }
  });

  await t.test('a paused master is replaced, and rejoins as a replica when resumed', async (t) => {
    const old = masterPort;
    const pausedAt = Date.now();
    topology.pause(old);
    const next = await topology.waitForFailover(old, 15_000);
    const electedMs = Date.now() - pausedAt;
    t.ok(replicas.includes(next.port), `a former replica (${next.port}) is the master`);

    // NOREPLICAS until the other replica has re-synced to the new master.
    const client = connect(next.port);
    await waitFor('the new master to take a write', 10_000, () => client.set('topology:probe', 'after'));
    const writableMs = Date.now() - pausedAt;
    t.pass('the new master takes writes');

    const resumedAt = Date.now();
    topology.resume(old);
    await topology.waitForReplicaOf(old, next.port, 30_000);
    const rejoinedMs = Date.now() - resumedAt;
    t.equal(await client.wait(2, 2000), 2, 'WAIT 2: the old master replicates again');
    t.equal(await connect(old).get('topology:probe'), 'after', 'the old master has the new write');
    t.comment(
      `master elected ${electedMs} ms after the pause, writable at ${writableMs} ms; ` +
        `old master a replica ${rejoinedMs} ms after resume`,
    );
    masterPort = next.port;
  });

  await t.test('stop() leaves no process behind', async (t) => {
    const pids = [...redisPorts, ...sentinelPorts].map((port) => topology.pidOf(port));
    t.ok(
      pids.every((pid) => pid !== undefined),
      'every process runs before stop()',
    );
    const stoppingAt = Date.now();
    await topology.stop();
    t.comment(`stop() took ${Date.now() - stoppingAt} ms`);
    await topology.stop();
    for (const pid of pids) t.throws(() => process.kill(pid as number, 0), { code: 'ESRCH' }, `pid ${pid} is gone`);
    t.ok(
      redisPorts.every((port) => topology.pidOf(port) === undefined),
      'pidOf() knows it',
    );
  });
});
