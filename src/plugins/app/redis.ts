import fp from 'fastify-plugin';
import { Redis, closeClient, connect, logConnectionErrors, masterOptions, rateLimitOptions, replicaOptions, watchMaster } from '../../redis/connections.js';
import { createTxPool, type TxPool } from '../../redis/tx-pool.js';
import { defineScripts } from '../../redis/scripts/index.js';
import { keySchema, type Keys } from '../../redis/keys.js';

export interface RedisClients {
  /** writes and read-your-writes, through Sentinel */
  master: Redis;
  /** catalog reads from a replica, through Sentinel */
  replica: Redis;
  /** rate-limit counters: fails fast instead of waiting out a failover */
  rateLimit: Redis;
  /** connections leased to one WATCH/MULTI/EXEC at a time */
  pool: TxPool;
  keys: Keys;
}

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClients;
  }
}

/** Owns every Redis connection: opens them at start (failing start-up if the master is unreachable), closes them on close. */
export default fp(
  async (app) => {
    const cfg = app.config.redis;
    const master = new Redis(masterOptions(cfg));
    const replica = new Redis(replicaOptions(cfg));
    const rateLimit = new Redis(rateLimitOptions(cfg));
    logConnectionErrors(master, app.log, 'master');
    logConnectionErrors(replica, app.log, 'replica');
    logConnectionErrors(rateLimit, app.log, 'rate-limit');
    watchMaster(master, app.log, () => app.businessMetrics.masterSwitches.inc());
    defineScripts(master);

    const pool = createTxPool(cfg, app.log);
    const closeAll = async () => {
      await pool.drain().then(() => pool.clear());
      await Promise.all([master, replica, rateLimit].map(closeClient));
    };
    try {
      await connect(master, cfg.readyTimeoutMs);
      await Promise.all([connect(rateLimit, cfg.readyTimeoutMs), pool.ready()]);
    } catch (err) {
      await closeAll();
      throw err;
    }
    // No replica yet is not fatal: catalog reads fall back to the master meanwhile.
    connect(replica, cfg.readyTimeoutMs).catch((err: Error) => app.log.warn({ err: { message: err.message } }, 'no redis replica reachable yet'));

    app.decorate('redis', { master, replica, rateLimit, pool, keys: keySchema(cfg.keyPrefix) });
    app.addHook('onClose', closeAll);
  },
  { name: 'redis', dependencies: ['business-metrics'] },
);
