import { Redis } from 'ioredis';
import type { Test } from 'tap';
import { adminAuth, generateRedisSecrets, type RedisSecrets } from '../../stack/helpers/redis-users.js';
import { startTopology, type Topology, type TopologyOptions } from '../../stack/topology/topology.js';
import { freePorts, tempDir } from './fixtures.js';

export interface TestTopology {
  topology: Topology;
  /** The passwords of its Redis users (redis/users.conf) and of its Sentinels. */
  secrets: RedisSecrets;
}

/** 3 Redis nodes + 3 Sentinels in a temp dir, fast failover; stopped and removed on teardown. */
export async function startTestTopology(t: Test, overrides: Partial<TopologyOptions> = {}): Promise<TestTopology> {
  let topology: Topology | undefined;
  const dir = await tempDir(t, 'topology', async () => topology?.stop());
  const ports = await freePorts(6);
  const secrets = overrides.secrets ?? generateRedisSecrets();
  topology = await startTopology({
    dir,
    redisPorts: ports.slice(0, 3),
    sentinelPorts: ports.slice(3),
    downAfterMs: 1000,
    failoverTimeoutMs: 3000,
    ...overrides,
    secrets,
  });
  return { topology, secrets };
}

/**
 * A client of the master as the operators' admin user (redis/users.conf), for tests that look at Redis beyond
 * the service's own keys and commands (the service's user may not run KEYS or SCAN). Closed on teardown.
 */
export function adminClient(t: Test, topo: TestTopology): Redis {
  const { host, sentinelPorts, masterName } = topo.topology.options;
  const client = new Redis({
    sentinels: sentinelPorts.map((port) => ({ host, port })),
    name: masterName,
    sentinelPassword: topo.secrets.sentinels,
    ...adminAuth(topo.secrets),
    protocol: 2,
  });
  t.teardown(() => client.disconnect());
  return client;
}
