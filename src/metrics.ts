import { Counter, type Registry } from 'prom-client';

/** Business counters, next to fastify-metrics' HTTP metrics in the same registry. */
export class BusinessMetrics {
  readonly purchases: Counter<'outcome'>;
  readonly unitsSold: Counter;
  readonly watchRetries: Counter;
  readonly idempotentReplays: Counter;
  readonly waits: Counter<'result'>;
  readonly masterSwitches: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.purchases = new Counter({
      name: 'evergreen_purchases_total',
      help: 'Purchase requests by outcome (created, replayed, out_of_stock, product_not_found, not_durable, in_progress, key_reused, contention, error)',
      labelNames: ['outcome'],
      registers,
    });
    this.unitsSold = new Counter({ name: 'evergreen_units_sold_total', help: 'Units sold by acknowledged purchases', registers });
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
      help: 'WAIT outcomes after a purchase: acked (enough replicas confirmed) or timeout',
      labelNames: ['result'],
      registers,
    });
    this.masterSwitches = new Counter({
      name: 'evergreen_redis_master_switches_total',
      help: 'Times this instance found the Redis master at a new address (failovers)',
      registers,
    });
  }
}
