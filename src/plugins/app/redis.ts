import fp from 'fastify-plugin';
import {
  Redis,
  authReaderOptions,
  closeClient,
  connect,
  followMaster,
  logConnectionErrors,
  masterOptions,
  rateLimitOptions,
  replicaOptions,
  reviveOnEnd,
} from '../../redis/connections.js';
import { CatalogReads } from '../../redis/catalog-reads.js';
import { FailoverWatch } from '../../redis/failover-watch.js';
import { formatAddress, type Address } from '../../redis/failover-fence.js';
import { createTxPool, type TxConnection, type TxPool } from '../../redis/tx-pool.js';
import { defineScripts } from '../../redis/scripts/index.js';
import { keySchema, type Keys } from '../../redis/keys.js';
import { ClientCache } from '../../redis/cache/client-cache.js';
import { TrackingLink } from '../../redis/cache/tracking-link.js';
import { PROBE_TIMEOUT_MS, READMIT_AFTER_MS, ReplicaLagMonitor } from '../../redis/replica-lag-probe.js';

// Two replica clients, each preferring another replica: a read has somewhere to go while one is repointed.
const REPLICA_CLIENTS = 2;

export interface RedisClients {
  /** writes and read-your-writes, through Sentinel */
  master: Redis;
  /** catalog reads from replicas, through Sentinel */
  replicas: Redis[];
  /** rate-limit counters: fails fast instead of waiting out a failover */
  rateLimit: Redis;
  /** the token check's reads, tracked for the client-side cache */
  authReader: Redis;
  /** reads kept exact by Redis (CLIENT TRACKING on the replicas' and the auth reader's connections) */
  cache: ClientCache;
  /** connections leased to one WATCH/MULTI/EXEC at a time */
  pool: TxPool;
  /** every Sentinel's view: the master's address and the failover fence */
  watch: FailoverWatch;
  /** where a catalog read goes */
  catalogReads: CatalogReads;
  /** how far each replica trails the master; whether catalog reads may go there */
  replicaLag: ReplicaLagMonitor;
  keys: Keys;
  /** Every client's ioredis status by name, for /health/ready. */
  statuses(): Record<string, string>;
}

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClients;
  }
}

/**
 * Owns every Redis connection: opens them at start (failing start-up if the master is unreachable), closes them
 * on close.
 */
export default fp(
  async (app) => {
    const cfg = app.config.redis;
    const metrics = app.businessMetrics;
    const watch = new FailoverWatch(cfg, app.log);
    const master = new Redis(masterOptions(cfg));
    const replicas = Array.from({ length: REPLICA_CLIENTS }, (_, i) => new Redis(replicaOptions(cfg, i)));
    const rateLimit = new Redis(rateLimitOptions(cfg));
    const authReader = new Redis(authReaderOptions(cfg));
    const named: [string, Redis][] = [
      ['master', master],
      ...replicas.map((r, i): [string, Redis] => [`replica-${i + 1}`, r]),
      ['rate-limit', rateLimit],
      ['auth-reader', authReader],
    ];
    const revived = () => metrics.clientRevivals.inc();
    for (const [name, client] of named) {
      logConnectionErrors(client, app.log, name);
      reviveOnEnd(client, app.log, name, revived);
    }
    followMaster(master, watch);
    followMaster(rateLimit, watch);
    followMaster(authReader, watch);
    const cache = new ClientCache(app.config.cache, metrics.cache);
    if (app.config.cache.enabled) {
      for (const reader of [...replicas, authReader]) cache.track(new TrackingLink(reader, cfg, cache, app.log));
    }
    // A new master, or a doubt about it: what was read may belong to a history that is being discarded.
    watch.on('switch', (from) => {
      if (from) cache.flush('switch-master');
    });
    watch.on('fence', (up) => {
      if (up) cache.flush('fence');
    });
    watch.on('switch', (from: Address | undefined, to: Address) => {
      if (from) metrics.masterSwitches.inc();
      metrics.reportMaster(formatAddress(to));
    });
    metrics.reportFence(() => watch.fence.fenced);
    // A lagging replica gets no reads; what it read into the cache may be stale by its lag: dropped, not served.
    const replicaLag = new ReplicaLagMonitor(
      master,
      replicas,
      watch,
      { maxLagMs: cfg.replicaMaxLagMs, probeTimeoutMs: PROBE_TIMEOUT_MS, readmitAfterMs: READMIT_AFTER_MS },
      { left: (_node, _lagMs, readers) => cache.dropReadBy(readers) },
      app.log,
    );
    const replicaSet = new Set(replicas);
    cache.readableWhen((reader) => !replicaSet.has(reader) || replicaLag.inRotation(reader));
    metrics.reportReplicaLag(() => replicaLag.report());
    for (const client of [master, rateLimit]) defineScripts(client);

    const txConnections = new Set<TxConnection>();
    const pool = createTxPool(cfg, watch, app.log, revived, txConnections);
    metrics.reportPoolPending(() => pool.pending);
    const closeAll = async () => {
      await pool.drain().then(() => pool.clear());
      replicaLag.close();
      cache.close();
      await Promise.all(named.map(([, client]) => closeClient(client)));
      await watch.close();
    };
    try {
      await connect(master, cfg.readyTimeoutMs);
      await watch.start(cfg.readyTimeoutMs);
      await Promise.all([connect(rateLimit, cfg.readyTimeoutMs), pool.ready()]);
    } catch (err) {
      await closeAll();
      throw err;
    }
    // No replica yet is not fatal: catalog reads fall back to the master meanwhile.
    for (const replica of replicas) {
      connect(replica, cfg.readyTimeoutMs).catch((err: Error) =>
        app.log.warn({ err: { message: err.message } }, 'no redis replica reachable yet'),
      );
    }
    // Nor is the auth reader yet: token checks go to the master connection meanwhile (uncached).
    connect(authReader, cfg.readyTimeoutMs).catch((err: Error) =>
      app.log.warn({ err: { message: err.message } }, 'redis auth reader not ready yet'),
    );

    const statuses = () => ({
      ...Object.fromEntries(named.map(([name, client]) => [name, client.status])),
      ...Object.fromEntries([...txConnections].map((conn, i) => [`tx-${i + 1}`, conn.redis.status])),
    });
    const catalogReads = new CatalogReads(
      replicas,
      master,
      watch,
      (source, replica) => {
        metrics.catalogReads.inc({ source });
        if (replica) metrics.catalogReplicaReads.inc({ replica: replicaLag.nodeOf(replica) });
      },
      (replica) => replicaLag.inRotation(replica),
    );
    app.decorate('redis', {
      master,
      replicas,
      rateLimit,
      authReader,
      cache,
      pool,
      watch,
      catalogReads,
      replicaLag,
      keys: keySchema(cfg.keyPrefix),
      statuses,
    });
    app.addHook('onClose', closeAll);
  },
  { name: 'redis', dependencies: ['business-metrics'] },
);
