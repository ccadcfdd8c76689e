import { v7 as uuidv7 } from 'uuid';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';
import type { ClientCache } from '../redis/cache/client-cache.js';
import type { FailoverWatch } from '../redis/failover-watch.js';
import type { TxConnection, TxPool } from '../redis/tx-pool.js';
import { withConnection } from '../redis/tx-pool.js';
import { execAndWait } from '../redis/exec-and-wait.js';
import { Durability } from './durability.js';
import { CatalogIndex } from './catalog-index.js';
import type { StockEvents } from '../redis/live/stock-events.js';
import type { CreatePurchaseBody, OrderLine, Purchase } from '../schemas/purchases.js';
import { purchaseOutcome, type BusinessMetrics } from '../metrics.js';
import {
  IdempotencyKeyReused,
  NotDurable,
  OutOfStock,
  ProductNotFound,
  PurchaseNotFound,
  RequestInProgress,
  ServiceUnavailable,
  TooMuchContention,
} from '../errors.js';
import { doneRecord, parseRecord, pendingRecord } from './idempotency.js';
import { loadPage, type Page, type PageRequest } from './pagination.js';
import { fingerprint, newPurchase, orderLines, purchaseFields, purchaseFromHash } from './purchase-record.js';

export interface PurchaseSettings {
  idempotencyTtlSeconds: number;
  idempotencyLockMs: number;
  maxRetries: number;
  waitReplicas: number;
  waitTimeoutMs: number;
  connectionWaitMs: number;
}

/** The key a request claims: its Redis key and the exact pending value it writes. */
interface Claim {
  key: string;
  pending: string;
  fingerprint: string;
}

/** Whether the claim's SET wrote our pending value: undefined until it answered (it may have run even so). */
interface ClaimState {
  claimed: boolean | undefined;
}

// Outcomes after which the leased connection holds nothing pending (no WATCH, no reply in flight).
const CLEAN_OUTCOMES = [
  OutOfStock,
  ProductNotFound,
  RequestInProgress,
  IdempotencyKeyReused,
  TooMuchContention,
  NotDurable,
  PurchaseNotFound,
];
const leavesConnectionClean = (err: unknown) => CLEAN_OUTCOMES.some((type) => err instanceof type);

const RELEASE_RETRY_MS = 500;

/** 409 OUT_OF_STOCK naming every line short of stock (nothing was written). */
function outOfStock(short: { productId: string; requested: number; available: number }[], lineCount: number) {
  const message =
    lineCount === 1
      ? `Only ${short[0]!.available} left in stock`
      : `${short.length} of the ${lineCount} lines are short of stock`;
  return Object.assign(new OutOfStock(message), { details: short });
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Purchases: the stock decrement, the purchase record, its two index entries and the idempotency result
 * are one WATCH/MULTI/EXEC on a connection leased for that transaction alone, acknowledged only after
 * WAIT saw a replica take it and no Sentinel doubted the master from before EXEC to after WAIT.
 */
export class PurchaseStore {
  private readonly durability: Durability;
  /** A product sold out leaves the in-stock index in the sale's own MULTI. */
  private readonly index: CatalogIndex;

  constructor(
    private readonly master: Redis,
    private readonly pool: TxPool,
    private readonly watch: FailoverWatch,
    private readonly keys: Keys,
    private readonly settings: PurchaseSettings,
    private readonly metrics: BusinessMetrics,
    /** Holds products as the catalog reads them: a sale's new stock is dropped here at once (read-your-writes). */
    private readonly cache: ClientCache,
    /** Each line's new stock, appended to the stock events in the purchase's own MULTI. */
    private readonly events: StockEvents,
  ) {
    this.durability = new Durability(watch, settings, metrics);
    this.index = new CatalogIndex(keys);
  }

  async purchase(
    userId: string,
    body: CreatePurchaseBody,
    idempotencyKey?: string,
  ): Promise<{ purchase: Purchase; replayed: boolean }> {
    const lines = orderLines(body);
    try {
      const result = await this.claimAndBuy(userId, lines, idempotencyKey);
      this.metrics.purchases.inc({ outcome: result.replayed ? 'replayed' : 'created' });
      return result;
    } catch (err) {
      this.metrics.purchases.inc({ outcome: purchaseOutcome(err) });
      throw err;
    }
  }

  /**
   * Everything on one leased connection, once it is usable (the master every Sentinel agrees on, no failover
   * pending): a claim read from a master about to be discarded could name a purchase the new one never had.
   */
  private claimAndBuy(
    userId: string,
    lines: OrderLine[],
    idempotencyKey: string | undefined,
  ): Promise<{ purchase: Purchase; replayed: boolean }> {
    return withConnection(
      this.pool,
      async (conn) => {
        if (!(await conn.ready(this.settings.connectionWaitMs))) throw new ServiceUnavailable();
        const claim = idempotencyKey === undefined ? undefined : this.claimFor(userId, idempotencyKey, lines);
        const claimState: ClaimState = { claimed: undefined };
        try {
          return await this.transact(conn, userId, lines, claim, claimState);
        } catch (err) {
          if (claim && claimState.claimed !== false) await this.freeClaim(claim);
          throw err;
        }
      },
      leavesConnectionClean,
      (seconds) => this.metrics.poolWait.observe(seconds),
    );
  }

  private claimFor(userId: string, idempotencyKey: string, lines: OrderLine[]): Claim {
    const fp = fingerprint(lines);
    return { key: this.keys.idempotency(userId, idempotencyKey), pending: pendingRecord(fp), fingerprint: fp };
  }

  /**
   * After any failure, the claim goes back so that a retry is judged afresh. Always safe: a committed purchase
   * turned the claim into its `done` record (nothing to free), and an EXEC still queued on a paused master
   * aborts, because the claim key it WATCHes changed. Retried in the background while the master is away.
   */
  private async freeClaim(claim: Claim): Promise<void> {
    const until = Date.now() + this.settings.idempotencyLockMs;
    const attempt = (): Promise<void> =>
      this.master.releaseIfEqual(claim.key, claim.pending).then(
        () => undefined,
        () => {
          if (Date.now() + RELEASE_RETRY_MS < until) setTimeout(() => void attempt(), RELEASE_RETRY_MS).unref();
        },
      );
    await attempt();
  }

  /** The answer to a repeated key: the original purchase (checked durable again), or why not. */
  private async replay(conn: TxConnection, key: string, raw: string, fp: string): Promise<Purchase> {
    const record = parseRecord(raw);
    if (record.fingerprint !== fp) throw new IdempotencyKeyReused();
    if (record.state === 'pending') throw new RequestInProgress();
    const lease = conn.usable ? this.watch.lease() : undefined;
    if (!lease) throw new ServiceUnavailable();
    // Rewriting the record moves this connection's replication offset past the original purchase, so the WAIT
    // right behind it (same write) tells whether a replica has it (the first answer may have been NOT_DURABLE).
    const { waitReplicas, waitTimeoutMs } = this.settings;
    const batch = conn.redis.pipeline().set(key, raw, 'KEEPTTL', 'XX').hgetall(this.keys.purchase(record.purchaseId));
    if (waitReplicas > 0) batch.wait(waitReplicas, waitTimeoutMs);
    const results = ((await batch.exec()) ?? []) as [Error | null, unknown][];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
    const hash = results[1]![1] as Record<string, string>;
    if (!hash.id) throw new PurchaseNotFound();
    this.durability.judge(waitReplicas > 0 ? (results[2]![1] as number) : 0, lease);
    this.metrics.idempotentReplays.inc();
    return purchaseFromHash(hash);
  }

  /**
   * Two round trips to the master: [claim the key, WATCH every product, their price and stock] in one pipeline,
   * then [MULTI … EXEC, WAIT] in one write: every line or none. A pipeline keeps the order of its commands on the
   * connection: the claim lands before the WATCH (our own SET must not trip it), and WAIT counts the replicas
   * that have the EXEC.
   */
  private async transact(
    conn: TxConnection,
    userId: string,
    lines: OrderLine[],
    claim: Claim | undefined,
    claimState: ClaimState,
  ): Promise<{ purchase: Purchase; replayed: boolean }> {
    const redis = conn.redis;
    const productKeys = lines.map((line) => this.keys.product(line.productId));
    const purchaseId = uuidv7();
    for (let attempt = 0; attempt <= this.settings.maxRetries; attempt++) {
      if (attempt > 0) await pause(Math.random() * Math.min(attempt, 10));
      if (!(await conn.ready(this.settings.connectionWaitMs))) throw new ServiceUnavailable();
      const generation = conn.generation;
      const claiming = claim !== undefined && claimState.claimed === undefined;
      const reads = redis.pipeline();
      if (claiming) reads.set(claim.key, claim.pending, 'PX', this.settings.idempotencyLockMs, 'NX', 'GET');
      reads.watch(claim ? [...productKeys, claim.key] : productKeys);
      for (const key of productKeys) reads.hmget(key, 'priceCents', 'stock');
      // Is the claim still ours? Asked again on a retry only: in the claiming pipeline, our SET has just written it
      // and the WATCH right behind it guards it from then on.
      if (claim && !claiming) reads.get(claim.key);
      const results = ((await reads.exec()) ?? []) as [Error | null, unknown][];
      const readError = results.find(([err]) => err)?.[0];
      if (readError) throw readError;
      const guarded = claiming ? results.slice(1) : results;
      if (claiming) {
        const previous = results[0]![1] as string | null;
        claimState.claimed = previous === null;
        if (previous !== null) {
          await redis.unwatch();
          return { purchase: await this.replay(conn, claim.key, previous, claim.fingerprint), replayed: true };
        }
      }
      const products = lines.map((_, i) => guarded[1 + i]![1] as (string | null)[]);
      const current = claim && !claiming ? (guarded[1 + lines.length]![1] as string | null) : claim?.pending;
      if (products.some(([price, stock]) => price == null || stock == null)) {
        await redis.unwatch();
        throw new ProductNotFound();
      }
      const short = lines
        .map((line, i) => ({ productId: line.productId, requested: line.quantity, available: Number(products[i]![1]) }))
        .filter((line) => line.available < line.requested);
      if (short.length > 0) {
        await redis.unwatch();
        throw outOfStock(short, lines.length);
      }
      // Our claim expired and another request took the key: that request owns the outcome now.
      if (claim && current !== null && current !== claim.pending) {
        await redis.unwatch();
        throw new RequestInProgress();
      }
      // The WATCH died with the socket it was sent on: never EXEC on a newer one. Nor while a failover is
      // pending, nor on a node other than the agreed master: try again once the connection is usable.
      const lease = conn.usable ? this.watch.lease() : undefined;
      if (conn.generation !== generation || !lease) continue;

      const now = new Date().toISOString();
      const prices = products.map(([price]) => Number(price));
      const purchase = newPurchase(purchaseId, userId, lines, prices, now);
      const { replies, acked } = await execAndWait(
        redis,
        (tx) => {
          lines.forEach((line, i) => {
            tx.hincrby(productKeys[i]!, 'stock', -line.quantity).hset(productKeys[i]!, 'updatedAt', now);
            const stock = Number(products[i]![1]);
            this.index.stockChanged(tx, line.productId, stock, stock - line.quantity);
            const state = { productId: line.productId, stock: stock - line.quantity, priceCents: prices[i]!, at: now };
            this.events.changed(tx, state);
          });
          tx.hset(this.keys.purchase(purchase.id), purchaseFields(purchase))
            .zadd(this.keys.purchaseIndex(), 0, purchase.id)
            .zadd(this.keys.userPurchases(userId), 0, purchase.id);
          if (claim) {
            tx.set(claim.key, doneRecord(claim.fingerprint, purchase.id), 'EX', this.settings.idempotencyTtlSeconds);
          }
        },
        this.durability.wait,
      );
      if (replies === null) {
        this.metrics.watchRetries.inc(); // a watched key changed: someone else bought or edited first
        continue;
      }
      this.cache.changed(...productKeys);
      this.durability.judge(acked, lease);
      this.metrics.unitsSold.inc(lines.reduce((units, line) => units + line.quantity, 0));
      this.metrics.revenueCents.inc(purchase.totalCents);
      return { purchase, replayed: false };
    }
    throw new TooMuchContention();
  }

  async get(id: string): Promise<Purchase> {
    const hash = await this.master.hgetall(this.keys.purchase(id));
    if (!hash.id) throw new PurchaseNotFound();
    return purchaseFromHash(hash);
  }

  list(page: PageRequest, userId?: string): Promise<Page<Purchase>> {
    const index = userId === undefined ? this.keys.purchaseIndex() : this.keys.userPurchases(userId);
    return loadPage(this.master, index, this.keys.purchase, purchaseFromHash, { ...page, newestFirst: true });
  }
}
