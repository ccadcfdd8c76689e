import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { startTopology, type Topology, type TopologyOptions } from '../../stack/topology.js';

// Below the OS's range for outgoing connections (32768-60999): a port chosen there and released may be taken
// by any client's socket a moment later. Random in this band, so parallel test files rarely race for one.
const PORT_BAND = { from: 20_000, to: 32_767 };

const listenOn = (port: number) =>
  new Promise<ReturnType<typeof createServer> | undefined>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

/** n distinct loopback ports below 32768 that were free a moment ago (all held open at once, so no repeats). */
export async function freePorts(n: number): Promise<number[]> {
  const held = new Map<number, ReturnType<typeof createServer>>();
  for (let tries = 0; held.size < n; tries++) {
    if (tries > 1000) throw new Error(`no ${n} free ports between ${PORT_BAND.from} and ${PORT_BAND.to}`);
    const port = PORT_BAND.from + Math.floor(Math.random() * (PORT_BAND.to - PORT_BAND.from + 1));
    if (held.has(port)) continue;
    const server = await listenOn(port);
    if (server) held.set(port, server);
  }
  await Promise.all([...held.values()].map((server) => new Promise((resolve) => server.close(resolve))));
  return [...held.keys()];
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
