import type { StackConfig } from '../config.js';
import type { RedisSecrets } from '../helpers/redis-users.js';
import type { StackTier } from '../tiers.js';
import type { TopologyOptions } from './options.js';
import { startTopology } from './topology.js';

/** The topology of a stack's config: its state folder, ports, master name, Sentinel timings, key prefix, logs. */
export const stackTopologyOptions = (
  config: StackConfig,
  secrets: RedisSecrets,
  log: (msg: string) => void,
): TopologyOptions => ({
  dir: config.dir,
  host: config.host,
  redisPorts: config.redisPorts,
  sentinelPorts: config.sentinelPorts,
  masterName: config.masterName,
  downAfterMs: config.downAfterMs,
  failoverTimeoutMs: config.failoverTimeoutMs,
  secrets,
  keyPrefix: config.keyPrefix,
  logRotation: config.logRotation,
  log: (msg) => log(`  ${msg}`),
});

/** The Redis nodes and their Sentinels: first up, last down (Sentinels before Redis, so they start no failover). */
export const redisTier: StackTier = {
  ports: ({ redisPorts, sentinelPorts }) => [
    ...redisPorts.map((port) => ({ port, what: 'Redis (REDIS_PORTS)' })),
    ...sentinelPorts.map((port) => ({ port, what: 'Sentinel (SENTINEL_PORTS)' })),
  ],
  async start(host) {
    const { config } = host;
    const options = stackTopologyOptions(config, host.credentials.redis, (msg) => host.log(msg));
    host.procs.topology = await startTopology({ ...options, detached: true });
    return `Redis ${config.redisPorts.length} nodes and ${config.sentinelPorts.length} Sentinels up`;
  },
  stop: async (host) => host.procs.topology?.stop(),
};
