import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { startTopology, type Topology, type TopologyOptions } from '../../stack/topology.js';

/** n distinct loopback ports that were free a moment ago (all held open at once, so no repeats). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

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
