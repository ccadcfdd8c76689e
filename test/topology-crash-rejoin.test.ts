import { Redis } from 'ioredis';
import t from 'tap';
import { adminAuth } from '../stack/helpers/redis-users.js';
import { startTestTopology } from './helpers/topology.js';
import { waitFor } from './helpers/fixtures.js';

// A node that dies without being asked is brought back by its supervisor, in the role the Sentinels give it.
t.test('a crashed Redis node comes back by itself, never as a second master', async (t) => {
  // down-after 3 s: longer than a restart (0.5 s backoff + start), so a short crash is no failover.
  const { topology, secrets } = await startTestTopology(t, { downAfterMs: 3000 });
  const { host, redisPorts } = topology.options;
  const role = async (port: number): Promise<unknown[]> => {
    const client = new Redis({
      host,
      port,
      ...adminAuth(secrets),
      protocol: 2,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    client.on('error', () => {}); // refused while it is down: the call's rejection says so
    try {
      return (await client.call('ROLE')) as unknown[];
    } finally {
      client.disconnect();
    }
  };
  const crash = (port: number) => {
    const pid = topology.pidOf(port);
    if (pid === undefined) throw new Error(`redis-${port} does not run`);
    process.kill(pid, 'SIGKILL'); // from outside: the supervisor did not ask for it
    return pid;
  };
  const backWithNewPid = (port: number, old: number, timeoutMs = 10_000) =>
    waitFor(`redis-${port} back with a new pid`, timeoutMs, async () => {
      const pid = topology.pidOf(port);
      if (pid === undefined || pid === old) throw new Error('not yet');
      return pid;
    });

  await t.test('a replica killed with SIGKILL is back within seconds and replicates the master', async (t) => {
    const master = await topology.masterAddress();
    const replica = redisPorts.find((port) => port !== master.port) as number;
    const killedAt = Date.now();
    const old = crash(replica);
    await backWithNewPid(replica, old);
    await topology.waitForReplicaOf(replica, master.port, 15_000);
    t.comment(`replica linked again ${Date.now() - killedAt} ms after the kill`);
    t.pass(`redis-${replica} replicates redis-${master.port} again`);
  });

  await t.test('a master killed briefly comes back as the master, with no failover', async (t) => {
    const master = await topology.masterAddress();
    const killedAt = Date.now();
    const old = crash(master.port);
    await backWithNewPid(master.port, old);
    const first = await waitFor('its first ROLE', 5000, () => role(master.port));
    t.equal(first[0], 'master', 'it starts as the master the Sentinels still name');
    t.comment(`master answering again ${Date.now() - killedAt} ms after the kill`);
    t.same(await topology.masterAddress(), master, 'the Sentinels still name it');
  });

  await t.test('a master that crashes after the Sentinels promoted another comes back as its replica', async (t) => {
    const master = await topology.masterAddress();
    topology.pause(master.port);
    const promoted = await topology.waitForFailover(master.port, 30_000);
    // Still frozen, it dies: the supervisor restarts it from a config that says master.
    const old = crash(master.port);
    await backWithNewPid(master.port, old);
    const first = await waitFor('its first ROLE', 5000, () => role(master.port));
    t.equal(first[0], 'slave', 'its very first answer is as a replica');
    t.equal(Number(first[2]), promoted.port, `of redis-${promoted.port}, the master the Sentinels name`);
    await topology.waitForReplicaOf(master.port, promoted.port, 15_000);
    t.pass('and it syncs from it');
  });
});
