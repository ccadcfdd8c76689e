import type { Keys } from '../redis/keys.js';
import type { ClientCache } from '../redis/cache/client-cache.js';
import type { TxConnection, TxPool } from '../redis/tx-pool.js';
import { withConnection } from '../redis/tx-pool.js';
import { execAndWait } from '../redis/exec-and-wait.js';
import type { BusinessMetrics } from '../metrics.js';
import type { Purchase } from '../schemas/purchases.js';
import {
  CancelWindowClosed,
  Forbidden,
  NotDurable,
  PurchaseNotFound,
  ServiceUnavailable,
  TooMuchContention,
} from '../errors.js';
import type { Durability } from './durability.js';
import { purchaseFields, purchaseFromHash } from './purchase-record.js';
import { CatalogIndex } from './catalog-index.js';
import type { StockEvents } from '../redis/live/stock-events.js';

export interface CancelSettings {
  /** How long after a purchase its owner may cancel it (admins: always). */
  cancelWindowSeconds: number;
  maxRetries: number;
  connectionWaitMs: number;
}

/** Who asks: the owner may cancel within the window, an admin any purchase at any time. */
export interface Canceller {
  userId: string;
  admin: boolean;
}

// Outcomes after which the leased connection holds nothing pending (no WATCH, no reply in flight).
const CLEAN_OUTCOMES = [PurchaseNotFound, Forbidden, CancelWindowClosed, NotDurable, TooMuchContention];
const leavesConnectionClean = (err: unknown) => CLEAN_OUTCOMES.some((type) => err instanceof type);

/**
 * Cancellations: the purchase becomes `cancelled` and every line's stock comes back, in one WATCH/MULTI/EXEC on a
 * leased connection, acknowledged like a purchase (WAIT, the failover fence). The purchase's own status is the
 * guard: a second cancellation finds it cancelled and gives nothing back again (it answers the same purchase,
 * once a replica is seen to have it). A product deleted since gets nothing back (it would come back as a stray
 * hash holding only a stock).
 */
export class Cancellations {
  /** A product back in stock returns to the in-stock index in the cancellation's own MULTI. */
  private readonly index: CatalogIndex;

  constructor(
    private readonly pool: TxPool,
    private readonly keys: Keys,
    private readonly durability: Durability,
    private readonly settings: CancelSettings,
    private readonly metrics: BusinessMetrics,
    private readonly cache: ClientCache,
    /** Each line's stock back, appended to the stock events in the cancellation's own MULTI. */
    private readonly events: StockEvents,
  ) {
    this.index = new CatalogIndex(keys);
  }

  cancel(purchaseId: string, by: Canceller): Promise<Purchase> {
    return withConnection(
      this.pool,
      (conn) => this.transact(conn, purchaseId, by),
      leavesConnectionClean,
      (seconds) => this.metrics.poolWait.observe(seconds),
    );
  }

  private async transact(conn: TxConnection, purchaseId: string, by: Canceller): Promise<Purchase> {
    const redis = conn.redis;
    const purchaseKey = this.keys.purchase(purchaseId);
    for (let attempt = 0; attempt <= this.settings.maxRetries; attempt++) {
      if (!(await conn.ready(this.settings.connectionWaitMs))) throw new ServiceUnavailable();
      const generation = conn.generation;
      const first = ((await redis.pipeline().watch(purchaseKey).hgetall(purchaseKey).exec()) ?? []) as [
        Error | null,
        unknown,
      ][];
      const firstError = first.find(([err]) => err);
      if (firstError) throw firstError[0];
      const hash = first[1]![1];
      const stored = hash as Record<string, string>;
      const purchase = stored.id ? purchaseFromHash(stored) : undefined;
      const refusal = purchase ? this.refusal(purchase, by) : new PurchaseNotFound();
      if (refusal) {
        await redis.unwatch();
        throw refusal;
      }
      if (purchase!.status === 'cancelled') {
        await redis.unwatch();
        return this.confirm(conn, purchase!);
      }
      // The products too: a line gives back only to a product that still exists, decided under WATCH.
      const productKeys = purchase!.items.map((item) => this.keys.product(item.productId));
      const reads = ((await redis
        .pipeline(
          productKeys.flatMap((key) => [
            ['watch', key],
            ['hmget', key, 'stock', 'priceCents'],
          ]),
        )
        .exec()) ?? []) as [Error | null, unknown][];
      const failed = reads.find(([err]) => err);
      if (failed) throw failed[0];
      const stockOf = (i: number) => (reads[2 * i + 1]![1] as (string | null)[])[0] ?? null;
      const priceOf = (i: number) => Number((reads[2 * i + 1]![1] as (string | null)[])[1]);
      const lease = conn.usable ? this.durability.lease() : undefined;
      if (conn.generation !== generation || !lease) continue;

      const now = new Date().toISOString();
      const cancelled: Purchase = { ...purchase!, status: 'cancelled', cancelledAt: now };
      const { replies, acked } = await execAndWait(
        redis,
        (tx) => {
          tx.hset(purchaseKey, purchaseFields(cancelled));
          purchase!.items.forEach((item, i) => {
            const stock = stockOf(i);
            if (stock === null) return;
            tx.hincrby(productKeys[i]!, 'stock', item.quantity).hset(productKeys[i]!, 'updatedAt', now);
            this.index.stockChanged(tx, item.productId, Number(stock), Number(stock) + item.quantity);
            const state = { productId: item.productId, stock: Number(stock) + item.quantity, priceCents: priceOf(i) };
            this.events.changed(tx, { ...state, at: now });
          });
        },
        this.durability.wait,
      );
      if (replies === null) continue; // the purchase or a product changed under us: decide again
      this.cache.changed(...productKeys);
      this.durability.judge(acked, lease);
      this.metrics.cancellations.inc();
      // The whole total is owed back, a line of a product deleted since included (only its stock has nowhere to go).
      this.metrics.refundedCents.inc(purchase!.totalCents);
      return cancelled;
    }
    throw new TooMuchContention();
  }

  /** Why `by` may not cancel `purchase`, if they may not. */
  private refusal(purchase: Purchase, by: Canceller): Error | undefined {
    if (by.admin) return undefined;
    if (purchase.userId !== by.userId) return new Forbidden('You may only cancel your own purchases');
    if (purchase.status === 'cancelled') return undefined;
    const age = Date.now() - Date.parse(purchase.createdAt);
    return age > this.settings.cancelWindowSeconds * 1000 ? new CancelWindowClosed() : undefined;
  }

  /**
   * A repeated cancellation: the same purchase, once a replica is seen to have the cancellation (the first answer
   * may have been NOT_DURABLE). Rewriting its status moves this connection's replication offset past it, so the
   * WAIT right behind tells.
   */
  private async confirm(conn: TxConnection, purchase: Purchase): Promise<Purchase> {
    const lease = conn.usable ? this.durability.lease() : undefined;
    if (!lease) throw new ServiceUnavailable();
    const { replicas, timeoutMs } = this.durability.wait;
    const batch = conn.redis.pipeline().hset(this.keys.purchase(purchase.id), 'status', 'cancelled');
    if (replicas > 0) batch.wait(replicas, timeoutMs);
    const results = ((await batch.exec()) ?? []) as [Error | null, unknown][];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
    this.durability.judge(replicas > 0 ? (results[1]![1] as number) : 0, lease);
    return purchase;
  }
}
