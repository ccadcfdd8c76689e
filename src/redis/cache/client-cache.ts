import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import type { CacheKind, CacheMetrics, FlushReason } from './metrics.js';
import type { LinkEvents, TrackingLink } from './tracking-link.js';

/** A cached value, and the link (and its epoch) whose tracking watches the Redis key it was read from. */
interface Entry {
  value: unknown;
  redisKey: string;
  link: TrackingLink;
  epoch: number;
}

/** A read in flight whose answer may be cached: spoiled by an invalidation of its key or a flush meanwhile. */
interface Ticket {
  redisKey: string;
  link: TrackingLink;
  epoch: number;
  spoiled: boolean;
}

/** One key to read through the cache; `variant` tells apart several values read from one key (pages of an index). */
export interface CacheKey {
  redisKey: string;
  variant?: string;
}

// Per-entry bookkeeping beyond its JSON text: the entry, its map slots, the key strings.
const ENTRY_OVERHEAD_BYTES = 200;

/**
 * A bounded (entries and bytes, LRU) in-process cache of Redis reads, kept exact by Redis itself: a value is
 * stored only when it was read on a tracked connection (a TrackingLink) and no invalidation of its key and no
 * flush arrived while the read was in flight; it is served only while that link is trusted and still in the
 * epoch it was read in. Invalidations drop every value of their key, whichever link read it.
 */
export class ClientCache implements LinkEvents {
  private readonly lru: LRUCache<string, Entry>;
  /** LRU keys by Redis key: an invalidation names Redis keys. */
  private readonly byRedisKey = new Map<string, Set<string>>();
  private readonly pending = new Map<string, Set<Ticket>>();
  private readonly links = new Map<Redis, TrackingLink>();
  /** Whether what a reader read may be served and cached now (false: its replica lags; see readableWhen). */
  private readable: (reader: Redis) => boolean = () => true;

  constructor(
    options: { maxEntries: number; maxBytes: number },
    private readonly metrics: CacheMetrics,
  ) {
    this.lru = new LRUCache<string, Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) =>
        ENTRY_OVERHEAD_BYTES + key.length * 2 + (JSON.stringify(entry.value)?.length ?? 0) * 2,
      dispose: (entry, key) => {
        const keys = this.byRedisKey.get(entry.redisKey);
        keys?.delete(key);
        if (keys?.size === 0) this.byRedisKey.delete(entry.redisKey);
      },
    });
    metrics.reportSize(() => ({
      entries: this.lru.size,
      bytes: this.lru.calculatedSize,
      trustedLinks: this.trustedLinks(),
    }));
  }

  /** How many tracked readers may have their reads served from the cache right now. */
  trustedLinks(): number {
    let trusted = 0;
    for (const link of this.links.values()) if (link.trusted()) trusted += 1;
    return trusted;
  }

  /** Reads done on `link.reader` may be cached from now on. */
  track(link: TrackingLink): void {
    this.links.set(link.reader, link);
  }

  /**
   * Reads of a reader for which `readable` says false are neither served from the cache nor cached: a lagging
   * replica hears of each change as late as it lags, so its invalidations come late too.
   */
  readableWhen(readable: (reader: Redis) => boolean): void {
    this.readable = readable;
  }

  /** The value cached for `key`, if it may be served now (counted as a hit); undefined otherwise (not counted). */
  get<T>(kind: CacheKind, key: CacheKey): T | undefined {
    const lruKey = lruKeyOf(key);
    const entry = this.lru.get(lruKey);
    if (!entry) return undefined;
    if (entry.epoch !== entry.link.epoch) {
      this.lru.delete(lruKey);
      return undefined;
    }
    if (!entry.link.trusted() || !this.readable(entry.link.reader)) return undefined;
    this.metrics.hits.inc({ kind });
    return entry.value as T;
  }

  /**
   * A miss: runs `read` (which must send its commands on `redis` before it first awaits) and caches each value
   * it returns for the key at the same position, when `redis` is a tracked reader that is trusted now and
   * nothing spoiled the read. Undefined values (nothing there) are returned, never cached.
   */
  async load<T>(kind: CacheKind, keys: CacheKey[], redis: Redis, read: () => Promise<(T | undefined)[]>) {
    this.metrics.misses.inc({ kind }, keys.length);
    const link = this.links.get(redis);
    const tickets =
      link?.trusted() && this.readable(redis) ? keys.map((key) => this.issue(key.redisKey, link)) : undefined;
    try {
      const values = await read();
      if (tickets) {
        values.forEach((value, i) => {
          const ticket = tickets[i]!;
          if (value === undefined || ticket.spoiled || ticket.epoch !== ticket.link.epoch) return;
          this.store(keys[i]!, { value, redisKey: ticket.redisKey, link: ticket.link, epoch: ticket.epoch });
        });
      }
      return values;
    } finally {
      for (const ticket of tickets ?? []) this.settle(ticket);
    }
  }

  /** One key: `load` for a read of a single value. */
  async loadOne<T>(kind: CacheKind, key: CacheKey, redis: Redis, read: () => Promise<T | undefined>) {
    const [value] = await this.load(kind, [key], redis, async () => [await read()]);
    return value;
  }

  /** Redis said these keys changed (null: the whole database). */
  invalidate(redisKeys: string[] | null): void {
    if (redisKeys === null) {
      this.flush('flushdb');
      return;
    }
    this.metrics.invalidations.inc(redisKeys.length);
    this.drop(redisKeys);
  }

  /**
   * This instance has just written these keys: their values are dropped at once, so that its own next read
   * sees the write (read-your-writes) without waiting for Redis's invalidation, which still comes.
   */
  changed(...redisKeys: string[]): void {
    this.drop(redisKeys);
  }

  flush(reason: FlushReason): void {
    this.metrics.flushes.inc({ reason });
    for (const tickets of this.pending.values()) for (const ticket of tickets) ticket.spoiled = true;
    this.lru.clear();
  }

  /** Drops what these readers read (and spoils their reads in flight): their replica has just been found lagging. */
  dropReadBy(readers: Redis[]): void {
    const links = new Set(readers.map((reader) => this.links.get(reader)).filter((link) => link !== undefined));
    if (links.size === 0) return;
    this.metrics.flushes.inc({ reason: 'replica-lag' });
    for (const tickets of this.pending.values()) {
      for (const ticket of tickets) if (links.has(ticket.link)) ticket.spoiled = true;
    }
    const stale: string[] = [];
    this.lru.forEach((entry, key) => {
      if (links.has(entry.link)) stale.push(key);
    });
    for (const key of stale) this.lru.delete(key);
  }

  close(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
    this.lru.clear();
  }

  private drop(redisKeys: string[]): void {
    for (const redisKey of redisKeys) {
      for (const ticket of this.pending.get(redisKey) ?? []) ticket.spoiled = true;
      for (const lruKey of [...(this.byRedisKey.get(redisKey) ?? [])]) this.lru.delete(lruKey);
    }
  }

  private issue(redisKey: string, link: TrackingLink): Ticket {
    const ticket: Ticket = { redisKey, link, epoch: link.epoch, spoiled: false };
    const tickets = this.pending.get(redisKey);
    if (tickets) tickets.add(ticket);
    else this.pending.set(redisKey, new Set([ticket]));
    return ticket;
  }

  private settle(ticket: Ticket): void {
    const tickets = this.pending.get(ticket.redisKey);
    tickets?.delete(ticket);
    if (tickets?.size === 0) this.pending.delete(ticket.redisKey);
  }

  private store(key: CacheKey, entry: Entry): void {
    const lruKey = lruKeyOf(key);
    this.lru.set(lruKey, entry);
    if (!this.lru.has(lruKey)) return; // larger than the whole cache: not kept
    const keys = this.byRedisKey.get(entry.redisKey);
    if (keys) keys.add(lruKey);
    else this.byRedisKey.set(entry.redisKey, new Set([lruKey]));
  }
}

const lruKeyOf = (key: CacheKey) => (key.variant ? `${key.redisKey}\u0000${key.variant}` : key.redisKey);
