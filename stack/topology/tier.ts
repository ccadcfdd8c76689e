import type { StackTier } from '../tiers.js';
import { startTopology } from './topology.js';

/** The Redis nodes and their Sentinels: first up, last down (Sentinels before Redis, so they start no failover). */
export const redisTier: StackTier = {
  ports: ({ redisPorts, sentinelPorts }) => [
    ...redisPorts.map((port) => ({ port, what: 'Redis (REDIS_PORTS)' })),
    ...sentinelPorts.map((port) => ({ port, what: 'Sentinel (SENTINEL_PORTS)' })),
  ],
  async start(host) {
    const { config } = host;
    host.procs.topology = await startTopology({
      dir: config.dir,
      host: config.host,
      redisPorts: config.redisPorts,
      sentinelPorts: config.sentinelPorts,
      masterName: config.masterName,
      downAfterMs: config.downAfterMs,
      failoverTimeoutMs: config.failoverTimeoutMs,
      secrets: host.credentials.redis,
      keyPrefix: config.keyPrefix,
      detached: true,
      logRotation: config.logRotation,
      log: (msg) => host.log(`  ${msg}`),
    });
    return `Redis ${config.redisPorts.length} nodes and ${config.sentinelPorts.length} Sentinels up`;
  },
  stop: async (host) => host.procs.topology?.stop(),
};
