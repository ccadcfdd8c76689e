import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { startTopology, type Topology, type TopologyOptions } from '../../stack/topology/topology.js';
import { freePorts, tempDir } from './fixtures.js';

export interface TestTopology {
  topology: Topology;
  redisPassword: string;
  sentinelPassword: string;
}

/** 3 Redis nodes + 3 Sentinels in a temp dir, fast failover; stopped and removed on teardown. */
export async function startTestTopology(t: Test, overrides: Partial<TopologyOptions> = {}): Promise<TestTopology> {
  let topology: Topology | undefined;
  const dir = await tempDir(t, 'topology', async () => topology?.stop());
  const ports = await freePorts(6);
  const redisPassword = randomBytes(12).toString('hex');
  const sentinelPassword = randomBytes(12).toString('hex');
  topology = await startTopology({
    dir,
    redisPorts: ports.slice(0, 3),
    sentinelPorts: ports.slice(3),
    redisPassword,
    sentinelPassword,
    downAfterMs: 1000,
    failoverTimeoutMs: 3000,
    ...overrides,
  });
  return { topology, redisPassword, sentinelPassword };
}
