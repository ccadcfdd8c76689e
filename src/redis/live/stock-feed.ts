import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CatalogReads } from '../catalog-reads.js';
import type { Keys } from '../keys.js';
import { ProductNotFound, ServiceUnavailable, TooManyStreams } from '../../errors.js';
import type { LiveMetrics } from './metrics.js';
import { BEFORE_ALL, compareIds, isStreamId, parseEntry, type StockEvent, type StockState } from './stock-events.js';
import { Watcher, type StreamSink } from './watcher.js';

// The tail: entries per read, and how long one blocking read waits for the next change.
const BATCH = 500;
export const BLOCK_MS = 2000;
// Without its own replica connection, the tail polls through the catalog reads this often.
const POLL_MS = 100;
// A catch-up read may come from a replica that trails the tail's: it reads again until it has caught up.
const CATCH_UP_MS = 2000;
const CATCH_UP_BATCH = 1000;

type Entries = [string, string[]][];
type XReadReply = [string, Entries][] | null;

export interface FeedSettings {
  /** streams one instance keeps open at most (SSE_MAX_CLIENTS) */
  maxClients: number;
}

/** An opened stream: what to tell its client first, and how to close it. */
export interface OpenStream {
  close(): void;
}

/** The stream's state on one node, read in one MULTI with the products' (so the snapshot and its position agree). */
interface Snapshot {
  states: StockState[];
  /** the last id the stream generated (BEFORE_ALL: none yet) */
  position: string;
  /** the first id still in the stream, when entries were ever removed (trimmed) before it */
  trimmedBefore: string | undefined;
}

/**
 * Live stock: ONE reader per instance tails the stock events stream (stock-events.ts) with a blocking XREAD on a
 * replica connection of its own, which Sentinel points at a healthy replica and moves after a failover, and fans
 * each event out in process to the watchers of its product. Opening a stream reads a snapshot of its products and
 * the stream's position in one MULTI, registers the watcher (live events queue up), reads what it missed since
 * its Last-Event-ID or snapshot (XRANGE), then lets the queued events through: every event once, in order.
 */
export class StockFeed {
  /** The id of the last entry the tail passed on; undefined until it found the stream's end at start. */
  private position: string | undefined;
  private readonly byProduct = new Map<string, Set<Watcher>>();
  private open = 0;
  private running = false;
  private loop: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly tail: Redis,
    private readonly reads: CatalogReads,
    private readonly master: Redis,
    private readonly keys: Keys,
    private readonly settings: FeedSettings,
    private readonly metrics: LiveMetrics,
    private readonly log: FastifyBaseLogger,
    /** Whether the tail's replica is known to lag (replica-lag-probe.ts): its events would come late by as much. */
    private readonly tailLags: () => boolean = () => false,
  ) {
    metrics.reportOpen(() => this.open);
  }

  get streams(): number {
    return this.open;
  }

  /** Starts tailing at the stream's end (found in the background: Redis may not answer yet). */
  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the tail; its blocking read ends when the caller closes the tail's connection. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /**
   * A new stream of these products' events, written to `sink`: from a snapshot (a `stock` event per product), or
   * after `lastEventId` when the stream still holds everything since; else `reset`, then the snapshot. Throws
   * ProductNotFound (nothing written) when a product does not exist, TooManyStreams at the ceiling.
   */
  async openStream(productIds: string[], lastEventId: string | undefined, sink: StreamSink): Promise<OpenStream> {
    if (this.open >= this.settings.maxClients) {
      this.metrics.refused.inc();
      throw new TooManyStreams();
    }
    // Until the tail knows where the stream ends, nothing could be passed on live.
    if (this.position === undefined) throw new ServiceUnavailable();
    this.open++;
    let watcher: Watcher | undefined;
    try {
      const snapshot = await this.snapshotFor(productIds, lastEventId);
      const resumeFrom = this.resumable(lastEventId, snapshot);
      watcher = new Watcher(new Set(productIds), resumeFrom ?? snapshot.position, sink, (event) => this.written(event));
      this.register(watcher);
      const tailAt = this.position!;
      if (resumeFrom === undefined) {
        if (lastEventId !== undefined) this.write(sink, 'reset', snapshot.position, this.resetReason(lastEventId));
        for (const state of snapshot.states) this.write(sink, 'stock', snapshot.position, state);
      }
      await this.catchUp(watcher, tailAt);
      watcher.goLive();
    } catch (err) {
      if (watcher) this.unregister(watcher);
      this.open--;
      throw err;
    }
    let closed = false;
    return {
      close: () => {
        if (closed) return;
        closed = true;
        this.unregister(watcher);
        this.open--;
      },
    };
  }

  /**
   * The snapshot; read again for a while when the client's Last-Event-ID is newer than the stream this node has
   * (the client came from an instance whose replica is ahead of this one's).
   */
  private async snapshotFor(productIds: string[], lastEventId: string | undefined): Promise<Snapshot> {
    const deadline = Date.now() + CATCH_UP_MS;
    for (;;) {
      const snapshot = await this.snapshot(productIds);
      const ahead =
        lastEventId !== undefined && isStreamId(lastEventId) && compareIds(lastEventId, snapshot.position) > 0;
      if (!ahead || Date.now() > deadline) return snapshot;
      await sleep(20);
    }
  }

  /** The id to resume after, or undefined when the client must start again from a snapshot. */
  private resumable(lastEventId: string | undefined, snapshot: Snapshot): string | undefined {
    if (lastEventId === undefined || !isStreamId(lastEventId)) return undefined;
    // An id this stream never generated: another history (a failover discarded it) or not ours.
    if (compareIds(lastEventId, snapshot.position) > 0) return undefined;
    // Entries after it may have been trimmed away.
    if (snapshot.trimmedBefore !== undefined && compareIds(lastEventId, snapshot.trimmedBefore) < 0) return undefined;
    return lastEventId;
  }

  private resetReason(lastEventId: string): object {
    return { reason: isStreamId(lastEventId) ? 'events since Last-Event-ID are gone' : 'unknown Last-Event-ID' };
  }

  private write(sink: StreamSink, type: 'stock' | 'reset', id: string, data: object): void {
    if (sink.write(type, id, data)) this.metrics.events.inc({ type });
  }

  private written(event: StockEvent): void {
    this.metrics.events.inc({ type: event.type });
    const at = Date.parse(event.state.at);
    if (Number.isFinite(at)) this.metrics.delivery.observe(Math.max(0, Date.now() - at) / 1000);
  }

  /**
   * The products and the stream's position, in one MULTI on a replica (a product a replica does not have yet is
   * looked for on the master, when it answers, before a 404).
   */
  private async snapshot(productIds: string[]): Promise<Snapshot> {
    const read = async (redis: Redis): Promise<Snapshot | undefined> => {
      const tx = redis.multi().xinfo('STREAM', this.keys.stockEvents());
      for (const id of productIds) tx.hmget(this.keys.product(id), 'stock', 'priceCents');
      const replies = ((await tx.exec()) ?? []) as [Error | null, unknown][];
      if (replies.length !== productIds.length + 1) throw new ServiceUnavailable();
      const at = new Date().toISOString();
      const states: StockState[] = [];
      for (const [i, productId] of productIds.entries()) {
        const [err, value] = replies[i + 1]!;
        if (err) throw err;
        const [stock, priceCents] = value as (string | null)[];
        if (stock == null || priceCents == null) return undefined;
        states.push({ productId, stock: Number(stock), priceCents: Number(priceCents), at });
      }
      return { states, ...streamInfo(replies[0]!) };
    };
    const snapshot = (await this.reads.run(read)) ?? (this.reads.masterAnswers() ? await read(this.master) : undefined);
    if (!snapshot) throw new ProductNotFound();
    return snapshot;
  }

  /** What the watcher missed after its cursor, up to at least where the tail was when it registered. */
  private async catchUp(watcher: Watcher, tailAt: string): Promise<void> {
    const deadline = Date.now() + CATCH_UP_MS;
    for (;;) {
      const entries = await this.reads.run((redis) =>
        redis.xrange(this.keys.stockEvents(), `(${watcher.position}`, '+', 'COUNT', CATCH_UP_BATCH),
      );
      let last = watcher.position;
      for (const entry of entries) {
        last = entry[0];
        const event = parseEntry(entry);
        if (event) watcher.deliver(event);
      }
      // Past everything read so far: move the cursor even when none of it was the watcher's products'.
      watcher.skipTo(last);
      if (entries.length === CATCH_UP_BATCH) continue;
      if (compareIds(watcher.position, tailAt) >= 0) return;
      // This replica trails the tail's: its next read has what the tail had already passed on.
      if (Date.now() > deadline) throw new ServiceUnavailable();
      await sleep(20);
    }
  }

  private register(watcher: Watcher): void {
    for (const id of watcher.productIds) {
      let set = this.byProduct.get(id);
      if (!set) this.byProduct.set(id, (set = new Set()));
      set.add(watcher);
    }
  }

  private unregister(watcher: Watcher): void {
    for (const id of watcher.productIds) {
      const set = this.byProduct.get(id);
      set?.delete(watcher);
      if (set?.size === 0) this.byProduct.delete(id);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.position === undefined) {
          const last = await this.reads.run((redis) => redis.xrevrange(this.keys.stockEvents(), '+', '-', 'COUNT', 1));
          this.position = last[0]?.[0] ?? BEFORE_ALL;
        }
        const entries = await this.next(this.position);
        if (this.failing) this.log.info('live stock tail reading again');
        this.failing = false;
        this.dispatch(entries);
      } catch (err) {
        if (!this.failing) this.log.warn({ err: { message: (err as Error).message } }, 'live stock tail failing');
        this.failing = true;
        await sleep(POLL_MS);
      }
    }
  }

  /**
   * The next entries: a blocking read on the tail's own replica connection, else (not connected, or its replica
   * lags) a poll through the catalog reads, which skip lagging replicas. The position only moves forward, so a
   * tail that goes back to a replica still behind it just waits there for what is new.
   */
  private async next(after: string): Promise<Entries> {
    const key = this.keys.stockEvents();
    if (this.tail.status === 'ready' && !this.tailLags()) {
      const reply = (await this.tail.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', key, after)) as XReadReply;
      return reply?.[0]?.[1] ?? [];
    }
    const reply = (await this.reads.run((redis) => redis.xread('COUNT', BATCH, 'STREAMS', key, after))) as XReadReply;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) await sleep(POLL_MS);
    return entries;
  }

  private dispatch(entries: Entries): void {
    for (const entry of entries) {
      this.position = entry[0];
      const event = parseEntry(entry);
      if (!event) continue;
      const watchers = this.byProduct.get(event.state.productId);
      if (watchers) for (const watcher of watchers) watcher.offer(event);
    }
  }
}

/** XINFO STREAM's answer (a flat list of names and values); a stream that does not exist yet has no events. */
function streamInfo([err, reply]: [Error | null, unknown]): Omit<Snapshot, 'states'> {
  if (err) {
    if (/no such key/i.test(err.message)) return { position: BEFORE_ALL, trimmedBefore: undefined };
    throw err;
  }
  const list = reply as unknown[];
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < list.length; i += 2) info.set(String(list[i]), list[i + 1]);
  const position = String(info.get('last-generated-id') ?? BEFORE_ALL);
  const removed = Number(info.get('entries-added') ?? 0) > Number(info.get('length') ?? 0);
  const first = (info.get('first-entry') as [string, string[]] | null)?.[0] ?? position;
  return { position, trimmedBefore: removed ? first : undefined };
}
