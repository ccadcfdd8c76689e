import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DomainError } from './errors.js';
import { CacheMetrics } from './redis/cache/metrics.js';
import { LiveMetrics } from './redis/live/metrics.js';
import { writeRefusal } from './redis/errors.js';
import type { ReplicaLagReport } from './redis/replica-lag-probe.js';

/** Outcomes of a purchase request, as the `outcome` label of evergreen_purchases_total. */
const PURCHASE_OUTCOMES = [
  'created',
  'replayed',
  'out_of_stock',
  'product_not_found',
  'not_durable',
  'request_in_progress',
  'idempotency_key_reused',
  'try_again',
  'store_full',
  'store_not_persisting',
  'unavailable',
] as const;

/** The outcome label for a failed purchase: its domain error's code, or `unavailable` for anything else. */
export function purchaseOutcome(err: unknown): (typeof PURCHASE_OUTCOMES)[number] {
  const refusal = writeRefusal(err);
  if (refusal) return refusal === 'memory' ? 'store_full' : 'store_not_persisting';
  const code = err instanceof DomainError ? err.code.toLowerCase() : undefined;
  return PURCHASE_OUTCOMES.find((outcome) => outcome === code) ?? 'unavailable';
}

/** Business counters, next to fastify-metrics' HTTP metrics in the same registry. */
export class BusinessMetrics {
  readonly purchases: Counter<'outcome'>;
  readonly unitsSold: Counter;
  readonly revenueCents: Counter;
  readonly watchRetries: Counter;
  readonly idempotentReplays: Counter;
  readonly cancellations: Counter;
  readonly refundedCents: Counter;
  readonly waits: Counter<'result'>;
  readonly masterSwitches: Counter;
  readonly clientRevivals: Counter;
  readonly failoverFence: Gauge;
  readonly master: Gauge<'address'>;
  readonly catalogReads: Counter<'source'>;
  readonly catalogReplicaReads: Counter<'replica'>;
  readonly poolWait: Histogram;
  readonly poolPending: Gauge;
  readonly loginLimited: Counter<'limit'>;
  readonly cache: CacheMetrics;
  readonly live: LiveMetrics;
  private fenced: () => boolean = () => false;
  private pending: () => number = () => 0;
  private replicaLag: () => ReplicaLagReport[] = () => [];

  constructor(registry: Registry) {
    const registers = [registry];
    this.purchases = new Counter({
      name: 'evergreen_purchases_total',
      help: `Purchase requests by outcome (${PURCHASE_OUTCOMES.join(', ')})`,
      labelNames: ['outcome'],
      registers,
    });
    // Every outcome is exported from the start (at 0), so dashboards and rate() see the series at once.
    for (const outcome of PURCHASE_OUTCOMES) this.purchases.inc({ outcome }, 0);
    this.unitsSold = new Counter({
      name: 'evergreen_units_sold_total',
      help: 'Units sold by acknowledged purchases',
      registers,
    });
    this.revenueCents = new Counter({
      name: 'evergreen_revenue_cents_total',
      help: 'Money taken by acknowledged purchases (unit price times quantity), in cents',
      registers,
    });
    this.cancellations = new Counter({
      name: 'evergreen_cancellations_total',
      help: 'Purchases cancelled (acknowledged: stock given back, confirmed by a replica)',
      registers,
    });
    this.refundedCents = new Counter({
      name: 'evergreen_refunded_cents_total',
      help: 'Money given back by acknowledged cancellations, in cents',
      registers,
    });
    this.watchRetries = new Counter({
      name: 'evergreen_purchase_watch_retries_total',
      help: 'Purchase transactions retried because a watched key changed (EXEC returned null)',
      registers,
    });
    this.idempotentReplays = new Counter({
      name: 'evergreen_idempotent_replays_total',
      help: 'Purchases answered from an earlier request with the same Idempotency-Key',
      registers,
    });
    this.waits = new Counter({
      name: 'evergreen_wait_total',
      help:
        'WAIT outcomes after a purchase: acked (confirmed), timeout (too few replicas), ' +
        'fenced (a failover was under way)',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['acked', 'timeout', 'fenced']) this.waits.inc({ result }, 0);
    this.masterSwitches = new Counter({
      name: 'evergreen_redis_master_switches_total',
      help: 'Times this instance found the Redis master at a new address (failovers)',
      registers,
    });
    this.clientRevivals = new Counter({
      name: 'evergreen_redis_client_revivals_total',
      help: 'Redis clients that ended without the service closing them and were connected again',
      registers,
    });
    this.failoverFence = new Gauge({
      name: 'evergreen_failover_fence',
      help: '1 while a Sentinel doubts the master or too few Sentinels are heard: purchases wait, none is acknowledged',
      registers,
      // Read at every scrape: a failover flag that lapses after failover-timeout says so by no event.
      collect: () => this.failoverFence.set(this.fenced() ? 1 : 0),
    });
    this.master = new Gauge({
      name: 'evergreen_redis_master',
      help: 'The Redis master this instance believes in: 1, labelled with its host:port',
      labelNames: ['address'],
      registers,
    });
    this.catalogReads = new Counter({
      name: 'evergreen_catalog_reads_total',
      help: 'Catalog reads by where they were served: replica, or master when no replica could answer',
      labelNames: ['source'],
      registers,
    });
    for (const source of ['replica', 'master']) this.catalogReads.inc({ source }, 0);
    this.catalogReplicaReads = new Counter({
      name: 'evergreen_catalog_replica_reads_total',
      help: 'Catalog reads served by a replica, by replica (host:port): one that lags gets none',
      labelNames: ['replica'],
      registers,
    });
    // Read at every scrape from the lag monitor: a replica no reader has been on for a minute leaves the series.
    const lag: Gauge<'replica'> = new Gauge({
      name: 'evergreen_replica_lag_seconds',
      help: 'How far behind the master each replica the catalog reads use is: the age of its oldest missing write',
      labelNames: ['replica'],
      registers,
      collect: () => {
        lag.reset();
        for (const r of this.replicaLag()) lag.set({ replica: r.replica }, r.lagSeconds);
      },
    });
    const lagging: Gauge<'replica'> = new Gauge({
      name: 'evergreen_replica_lagging',
      help: '1 while a replica lags past REPLICA_MAX_LAG_MS or does not answer its probe: it gets no catalog reads',
      labelNames: ['replica'],
      registers,
      collect: () => {
        lagging.reset();
        for (const r of this.replicaLag()) lagging.set({ replica: r.replica }, r.lagging ? 1 : 0);
      },
    });
    this.poolWait = new Histogram({
      name: 'evergreen_redis_pool_wait_seconds',
      help: 'Time a purchase waited to borrow a transaction connection',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5],
      registers,
    });
    this.poolPending = new Gauge({
      name: 'evergreen_redis_pool_pending',
      help: 'Purchases waiting for a transaction connection now',
      registers,
      collect: () => this.poolPending.set(this.pending()),
    });
    this.loginLimited = new Counter({
      name: 'evergreen_login_limited_total',
      help: 'Logins refused with 429 by the login limits, by the limit that was exceeded (ip, username)',
      labelNames: ['limit'],
      registers,
    });
    for (const limit of ['ip', 'username']) this.loginLimited.inc({ limit }, 0);
    this.cache = new CacheMetrics(registry);
    this.live = new LiveMetrics(registry);
  }

  /** A new master address: the gauge names it alone. */
  reportMaster(address: string): void {
    this.master.reset();
    this.master.set({ address }, 1);
  }

  /** Where evergreen_redis_pool_pending reads its value (the transaction pool). */
  reportPoolPending(pending: () => number): void {
    this.pending = pending;
  }

  /** Where evergreen_replica_lag_seconds and evergreen_replica_lagging read their values (the lag monitor). */
  reportReplicaLag(report: () => ReplicaLagReport[]): void {
    this.replicaLag = report;
  }

  /** Where evergreen_failover_fence reads its value (the Redis plugin's FailoverWatch). */
  reportFence(fenced: () => boolean): void {
    this.fenced = fenced;
  }
}
