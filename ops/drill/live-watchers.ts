import type { Redis } from 'ioredis';
import type { Keys } from '../../src/redis/keys.js';
import { purchaseFromHash } from '../../src/stores/purchase-record.js';
import { compareIds } from '../../src/redis/live/stock-events.js';
import { ResumingWatcher } from '../live/sse-client.js';
import { invariant, type Invariant } from './invariants.js';
import type { StoreSnapshot } from './store-snapshot.js';

/** Live stock watchers the drill keeps attached through NGINX, each watching every drill product. */
export const DRILL_WATCHERS = 4;
const CATCH_UP_MS = 15_000;
const CHUNK = 10_000;

/**
 * The drill's live stock watchers: each opens GET /products/events?ids=<every drill product> through the public
 * URL before the load starts and resumes as EventSource does (Last-Event-ID) whenever its stream ends, across
 * every fault. Judged at the end against the stream itself (invariant 5).
 */
export class DrillWatchers {
  private readonly watchers: ResumingWatcher[];
  /** The stream's position before the load (the snapshots' id): every later event must reach every watcher. */
  private start: string | undefined;

  constructor(
    base: string,
    private readonly products: string[],
    count = DRILL_WATCHERS,
  ) {
    const path = `/products/events?ids=${products.join(',')}`;
    this.watchers = Array.from(
      { length: count },
      () => new ResumingWatcher([`${base}/api/v1`], path, { retryMs: 200 }),
    );
  }

  /** Resolves once every watcher has its snapshot. */
  async opened(timeoutMs = 15_000): Promise<void> {
    for (const watcher of this.watchers) {
      await watcher.until((w) => w.events.length >= this.products.length, timeoutMs, 'a live stock snapshot');
    }
    this.start = this.watchers.map((w) => w.events[0]!.id!).sort(compareIds)[0];
  }

  async stop(): Promise<void> {
    await Promise.all(this.watchers.map((w) => w.stop()));
  }

  /**
   * 5. Every event of the drill's products the stream holds (read on the master after healing) reached every
   * watcher once and in the stream's order; and the stream holds one event per stored purchase line and one per
   * cancelled line (so none is missing from it either). Events a watcher got that the stream no longer holds
   * came from a history a failover discarded (never an acknowledged change's): counted, not failed.
   */
  async check(redis: Redis, keys: Keys, snapshot: StoreSnapshot): Promise<Invariant> {
    const name = 'live stock: every event of the stream reached every watcher, once and in order; one per change';
    if (this.start === undefined) return invariant(5, name, {}, [['the watchers never opened']]);
    const truth = await streamAfter(redis, keys, this.start, new Set(this.products));
    const last = truth.at(-1)?.id;
    const behind: string[] = [];
    for (const [i, watcher] of this.watchers.entries()) {
      if (!last) break;
      await watcher
        .until((w) => w.events.some((e) => e.id === last), CATCH_UP_MS, 'the last event')
        .catch(() => behind.push(`watcher ${i + 1} never got the stream's last event ${last}`));
    }
    await this.stop();
    const truthIds = truth.map((e) => e.id);
    const held = new Set(truthIds);
    const missing: string[] = [];
    const twice: string[] = [];
    const disorder: string[] = [];
    let extra = 0;
    let events = 0;
    for (const [i, watcher] of this.watchers.entries()) {
      const got = watcher.events.filter((e) => e.event !== 'reset' && e.id !== this.start).map((e) => e.id!);
      events += got.length;
      const seen = new Set<string>();
      for (const id of got) {
        if (seen.has(id)) twice.push(`watcher ${i + 1}: event ${id} twice`);
        seen.add(id);
      }
      extra += got.filter((id) => !held.has(id)).length;
      const inStream = got.filter((id) => held.has(id));
      for (const id of truthIds) if (!seen.has(id)) missing.push(`watcher ${i + 1}: event ${id} never arrived`);
      if (inStream.some((id, k) => k > 0 && compareIds(inStream[k - 1]!, id) >= 0)) {
        disorder.push(`watcher ${i + 1}: events out of the stream's order`);
      }
    }
    const expected = changesPerProduct(snapshot, new Set(this.products));
    const unbalanced: string[] = [];
    // Trimmed past the start (STOCK_EVENTS_MAXLEN, a long drill): the count of changes cannot be compared. The
    // stream's own word (Redis 7: the greatest id trimmed away); its oldest entry cannot tell, being after the
    // start both when nothing was trimmed and when everything up to it was.
    const info = (await redis.call('XINFO', 'STREAM', keys.stockEvents()).catch(() => [])) as unknown[];
    const at = info.indexOf('max-deleted-entry-id');
    const maxDeleted = at < 0 ? '0-0' : String(info[at + 1]);
    const trimmed = compareIds(maxDeleted, this.start) > 0;
    for (const product of trimmed ? [] : this.products) {
      const inStream = truth.filter((e) => e.productId === product).length;
      const changes = expected.get(product) ?? 0;
      if (inStream !== changes) unbalanced.push(`product ${product}: ${inStream} events, ${changes} changes stored`);
    }
    const counts = {
      watchers: this.watchers.length,
      connections: this.watchers.reduce((n, w) => n + w.connections, 0),
      streamEvents: truth.length,
      eventsRead: events,
      missing: missing.length,
      twice: twice.length,
      outOfOrder: disorder.length,
      resets: this.watchers.reduce((n, w) => n + w.resetCount, 0),
      discardedHistory: extra,
      unbalanced: unbalanced.length,
      trimmed: trimmed ? 1 : 0,
    };
    return invariant(5, name, counts, [behind, missing, twice, disorder, unbalanced]);
  }
}

/** The stream's entries of these products after `start`, in order. */
async function streamAfter(redis: Redis, keys: Keys, start: string, products: Set<string>) {
  const entries: { id: string; productId: string }[] = [];
  let after = start;
  for (;;) {
    const chunk = await redis.xrange(keys.stockEvents(), `(${after}`, '+', 'COUNT', CHUNK);
    for (const [id, fields] of chunk) {
      const productId = fields[fields.indexOf('p') + 1] ?? '';
      if (products.has(productId)) entries.push({ id, productId });
    }
    if (chunk.length < CHUNK) return entries;
    after = chunk.at(-1)![0];
  }
}

/** Per product: the lines of the stored purchases, and once more those of the cancelled ones (stock given back). */
function changesPerProduct(snapshot: StoreSnapshot, products: Set<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const hash of snapshot.indexed.values()) {
    const purchase = purchaseFromHash(hash);
    for (const line of purchase.items) {
      if (!products.has(line.productId)) continue;
      counts.set(line.productId, (counts.get(line.productId) ?? 0) + (purchase.status === 'cancelled' ? 2 : 1));
    }
  }
  return counts;
}
