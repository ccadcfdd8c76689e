import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { freePorts } from '../../stack/ports.js';
import { startTopology, type Topology, type TopologyOptions } from '../../stack/topology.js';

export { freePorts };

export interface TestTopology {
  topology: Topology;
  redisPassword: string;
  sentinelPassword: string;
}

/** 3 Redis nodes + 3 Sentinels in a temp dir, fast failover; stopped and removed on teardown. */
export async function startTestTopology(t: Test, overrides: Partial<TopologyOptions> = {}): Promise<TestTopology> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'evergreen-topology-'));
  const ports = await freePorts(6);
  const redisPassword = randomBytes(12).toString('hex');
  const sentinelPassword = randomBytes(12).toString('hex');
  let topology: Topology | undefined;
  t.teardown(async () => {
    await topology?.stop();
    // A failed test keeps the logs for whoever reads the failure.
    if (t.passing()) await rm(dir, { recursive: true, force: true });
    else t.comment(`kept topology state and logs in ${dir}`);
  });
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
