import { Redis } from 'ioredis';
import type { StackConfig } from '../../stack/config.js';
import { down } from '../../stack/commands/down.js';
import { resolveCredentials } from '../../stack/helpers/credentials.js';
import { up } from '../../stack/commands/up.js';
import { stateLayout } from '../../stack/layout.js';
import { assertPortsFree } from '../../stack/helpers/ports.js';
import { adminAuth, sentinelAuth, type RedisSecrets } from '../../stack/helpers/redis-users.js';
import { runningStack } from '../../stack/helpers/state.js';
import { redisTier, stackTopologyOptions } from '../../stack/topology/tier.js';
import { startTopology, type Topology } from '../../stack/topology/topology.js';
import { countKeys, type KeyCounts } from './counts.js';
import { hasNodeData } from './node-files.js';
import type { SentinelView } from './replica-source.js';

/** How backup and restore see the local stack of a state folder: running or not, and how to stop and start it. */
export interface StackControl {
  /** Whether the whole stack runs now (its Redis nodes and Sentinels on the config's ports). */
  isRunning(): Promise<boolean>;
  stopStack(): Promise<void>;
  /** Starts the whole stack again (after a restore of a running one). */
  startStack(): Promise<void>;
}

/** The stack `npm start` / `npm run up` launched, through its record and launcher (npm run down / up). */
export function launcherControl(config: StackConfig): StackControl {
  return {
    isRunning: async () => (await runningStack(config.dir)) !== undefined,
    stopStack: async () => {
      if ((await down(config)) !== 0) throw new Error('the stack did not stop: `npm run status` shows what runs');
    },
    startStack: async () => {
      if ((await up(config)) !== 0) throw new Error('the stack did not start again: see its log above');
    },
  };
}

export const sentinelView = (config: StackConfig, secrets: RedisSecrets): SentinelView => ({
  sentinels: config.sentinelPorts.map((port) => ({ host: config.host, port })),
  masterName: config.masterName,
  sentinelAuth: sentinelAuth(secrets),
  nodeAuth: adminAuth(secrets),
});

export const deploymentName = (config: StackConfig) => `local (${config.dir})`;

/** Whether any Redis node of the state folder ever ran (it has data files). */
export const anyNodeData = (config: StackConfig) =>
  config.redisPorts.some((port) => hasNodeData(stateLayout(config.dir).redis(port).dir));

/**
 * The stack's Redis nodes and Sentinels alone, started from the state folder for a backup or a restore while
 * the stack itself is stopped; the caller stops them.
 */
export async function startStackRedis(config: StackConfig, secrets: RedisSecrets, log: (msg: string) => void) {
  await assertPortsFree(config.host, redisTier.ports(config));
  return startTopology(stackTopologyOptions(config, secrets, log));
}

/**
 * Runs work with the stack's Redis up and its secrets: the running stack's, or its nodes started alone for the
 * time of it. A state folder no stack has used holds nothing to work on.
 */
export async function withStackRedis<T>(
  config: StackConfig,
  control: StackControl,
  log: (msg: string) => void,
  work: (secrets: RedisSecrets) => Promise<T>,
): Promise<T> {
  const running = await control.isRunning();
  if (!running && !anyNodeData(config))
    throw new Error(`no stack has run from ${config.dir}: there is no data to back up`);
  const secrets = (await resolveCredentials(config)).redis;
  if (running) return work(secrets);
  log(`the stack is stopped: starting its Redis nodes and Sentinels alone from ${config.dir}`);
  const topology = await startStackRedis(config, secrets, log);
  try {
    return await work(secrets);
  } finally {
    await topology.stop();
    log('its Redis nodes and Sentinels stopped again');
  }
}

/** The counts on one node, read on the node itself (a replica too). */
export async function countOn(
  host: string,
  port: number,
  secrets: RedisSecrets,
  keyPrefix: string,
): Promise<KeyCounts> {
  const redis = new Redis({ host, port, ...adminAuth(secrets), lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await countKeys(redis, keyPrefix);
  } finally {
    redis.disconnect();
  }
}

/** Counts on every node of the topology, its master first. */
export async function countEveryNode(topology: Topology, secrets: RedisSecrets, keyPrefix: string) {
  const { host, redisPorts } = topology.options;
  const master = await topology.masterAddress();
  const ports = [master.port, ...redisPorts.filter((port) => port !== master.port)];
  const counted: { node: string; counts: KeyCounts }[] = [];
  for (const port of ports) {
    const node = `redis-${port}${port === master.port ? ' (master)' : ''}`;
    counted.push({ node, counts: await countOn(host, port, secrets, keyPrefix) });
  }
  return counted;
}
