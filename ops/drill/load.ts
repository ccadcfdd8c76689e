import { setTimeout as sleep } from 'node:timers/promises';
import { request } from './http.js';
import { settle, settleCancel, type CancelOp, type Line, type PurchaseOp } from './purchase-op.js';
import type { DrillSetup } from './setup.js';

/** One catalog read (GET /api/v1/products/:id); failed unless 2xx. */
export interface Read {
  startedAt: number;
  endedAt: number;
  status: number;
  code: string;
}

export interface LoadSettings {
  clients: number;
  readsPerSecond: number;
  requestTimeoutMs: number;
  thinkMs: number;
}

// Every BASKET_EVERY-th keyed purchase of a buyer is a basket of 2–3 of the drill's products; every
// CANCEL_EVERY-th purchase a buyer has acknowledged is cancelled right away.
export const BASKET_EVERY = 4;
export const CANCEL_EVERY = 5;

export interface LoadCounts {
  ok: number;
  failed: number;
  unknown: number;
  /** Pending operations that already had an attempt that was not definite. */
  retrying: number;
  reads: number;
  failedReads: number;
  /** Purchases sent as baskets. */
  baskets: number;
  /** Cancellations of acknowledged purchases, counted like purchases. */
  cancellations: { ok: number; failed: number; unknown: number; retrying: number };
}

/**
 * The drill's steady mixed load through NGINX: `clients` buyers each sending one keyed purchase after
 * another (retried with the same key until definite; every BASKET_EVERY-th a basket), cancelling every
 * CANCEL_EVERY-th acknowledged one (retried until definite too), and catalog reads at a fixed rate.
 * Everything is logged.
 */
export class Load {
  readonly ops: PurchaseOp[] = [];
  readonly reads: Read[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly readsInFlight = new Set<Promise<void>>();

  constructor(
    private readonly base: string,
    private readonly setup: DrillSetup,
    private readonly settings: LoadSettings,
  ) {}

  start(): void {
    this.running = true;
    this.loops = [...this.setup.buyers.map((_, i) => this.buyerLoop(i)), this.readLoop()];
  }

  /** Ends the load; an operation still retrying when it ends stays unknown. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.readsInFlight);
  }

  /**
   * After healing: retries every unknown operation with its own key until definite or the deadline, then every
   * unknown cancellation (a purchase whose outcome stays unknown is never cancelled).
   */
  async resolveUnknown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const keepGoing = () => Date.now() < deadline;
    const { requestTimeoutMs } = this.settings;
    const queue = this.ops.filter((op) => op.outcome === 'unknown');
    const worker = async () => {
      for (let op = queue.shift(); op; op = queue.shift()) {
        const buyer = this.buyerOf(op);
        const outcome = await settle(this.base, buyer, op, requestTimeoutMs, keepGoing);
        op.outcome = outcome;
        op.resolvedLate = outcome !== 'unknown';
      }
    };
    await Promise.all(Array.from({ length: this.settings.clients }, worker));
    const cancels = this.ops.filter((op) => op.cancel?.outcome === 'unknown');
    const cancelWorker = async () => {
      for (let op = cancels.shift(); op; op = cancels.shift()) {
        const cancel = op.cancel as CancelOp;
        cancel.outcome = await settleCancel(this.base, this.buyerOf(op), op, requestTimeoutMs, keepGoing);
        cancel.resolvedLate = cancel.outcome !== 'unknown';
      }
    };
    await Promise.all(Array.from({ length: this.settings.clients }, cancelWorker));
  }

  /**
   * Sends up to `limit` acknowledged keys once more, lowest rank first, and logs the answers as further
   * attempts: a replay must return the very same purchase.
   */
  async replayAcknowledged(limit: number, timeoutMs: number, rank: (op: PurchaseOp) => number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    const ranked = this.ops.filter((op) => op.outcome === 'ok').map((op) => ({ op, rank: rank(op) }));
    const queue = ranked
      .sort((a, b) => a.rank - b.rank)
      .slice(0, limit)
      .map(({ op }) => op);
    const count = queue.length;
    const worker = async () => {
      for (let op = queue.shift(); op; op = queue.shift()) {
        await settle(this.base, this.buyerOf(op), op, this.settings.requestTimeoutMs, () => Date.now() < deadline);
      }
    };
    await Promise.all(Array.from({ length: this.settings.clients }, worker));
    return count;
  }

  counts(): LoadCounts {
    const cancellations = { ok: 0, failed: 0, unknown: 0, retrying: 0 };
    const counts: LoadCounts = {
      ...{ ok: 0, failed: 0, unknown: 0, retrying: 0, reads: this.reads.length, failedReads: 0, baskets: 0 },
      cancellations,
    };
    for (const op of this.ops) {
      if (op.outcome === 'pending') counts.retrying += op.attempts.length > 0 ? 1 : 0;
      else counts[op.outcome]++;
      if (op.lines.length > 1) counts.baskets++;
      const cancel = op.cancel;
      if (cancel?.outcome === 'pending') cancellations.retrying += cancel.attempts.length > 0 ? 1 : 0;
      else if (cancel) cancellations[cancel.outcome]++;
    }
    counts.failedReads = this.reads.filter(failedRead).length;
    return counts;
  }

  private buyerOf(op: PurchaseOp) {
    const buyer = this.setup.buyers.find((b) => b.id === op.userId);
    if (!buyer) throw new Error(`operation ${op.key} has no drill user`);
    return buyer;
  }

  private async buyerLoop(client: number): Promise<void> {
    const buyer = this.setup.buyers[client];
    if (!buyer) return;
    const keepGoing = () => this.running;
    let acknowledged = 0;
    for (let n = 1; this.running; n++) {
      const lines = this.lines(n % BASKET_EVERY === 0 ? 2 + Math.floor(Math.random() * 2) : 1);
      if (lines.length === 0) return;
      const op: PurchaseOp = {
        key: `drill-${this.setup.runId}-${client + 1}-${n}`,
        userId: buyer.id,
        lines,
        invokedAt: Date.now(),
        outcome: 'pending',
        attempts: [],
      };
      this.ops.push(op);
      op.outcome = await settle(this.base, buyer, op, this.settings.requestTimeoutMs, keepGoing);
      if (op.outcome === 'ok' && ++acknowledged % CANCEL_EVERY === 0 && this.running) {
        const cancel: CancelOp = { invokedAt: Date.now(), outcome: 'pending', attempts: [] };
        op.cancel = cancel;
        cancel.outcome = await settleCancel(this.base, buyer, op, this.settings.requestTimeoutMs, keepGoing);
      }
      await sleep(this.settings.thinkMs);
    }
  }

  /** `count` distinct drill products (fewer when the drill has fewer), 1–3 units each (a basket: 1–2). */
  private lines(count: number): Line[] {
    const products = [...this.setup.products];
    const lines: Line[] = [];
    while (lines.length < count && products.length > 0) {
      const [product] = products.splice(Math.floor(Math.random() * products.length), 1);
      const quantity = 1 + Math.floor(Math.random() * (count > 1 ? 2 : 3));
      if (product) lines.push({ productId: product.id, quantity });
    }
    return lines;
  }

  // Reads are fired on a clock, not one after another, so a slow answer does not slow the rate down.
  private async readLoop(): Promise<void> {
    const interval = 1000 / this.settings.readsPerSecond;
    for (let n = 0; this.running; n++) {
      const product = this.setup.products[n % this.setup.products.length];
      if (!product) return;
      const read = this.readOnce(product.id).finally(() => this.readsInFlight.delete(read));
      this.readsInFlight.add(read);
      await sleep(interval);
    }
  }

  private async readOnce(productId: string): Promise<void> {
    const startedAt = Date.now();
    const url = `/api/v1/products/${productId}`;
    const answer = await request(this.base, 'GET', url, { timeoutMs: this.settings.requestTimeoutMs });
    this.reads.push({ startedAt, endedAt: Date.now(), status: answer.status, code: answer.code });
  }
}

export const failedRead = (read: Read): boolean => read.status < 200 || read.status > 299;
