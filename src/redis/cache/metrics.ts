import { Counter, Gauge, type Registry } from 'prom-client';

/** What a cached read is: a product by id, a catalog page's ids, or a token check's record. */
export const CACHE_KINDS = ['product', 'page', 'token'] as const;
export type CacheKind = (typeof CACHE_KINDS)[number];

/** Why the cache was dropped: each is a moment it could have missed an invalidation, or heard it late. */
export const FLUSH_REASONS = [
  'reader-reconnect',
  'invalidation-lost',
  'invalidation-silent',
  'switch-master',
  'fence',
  'flushdb',
  // Not the whole cache: only what was read from a replica that has just been found lagging (its part of it).
  'replica-lag',
] as const;
export type FlushReason = (typeof FLUSH_REASONS)[number];

/** The client-side cache's counters and gauges, exported from the start (at 0). */
export class CacheMetrics {
  readonly hits: Counter<'kind'>;
  readonly misses: Counter<'kind'>;
  readonly invalidations: Counter;
  readonly flushes: Counter<'reason'>;
  private size: () => { entries: number; bytes: number; trustedLinks: number } = () => ({
    entries: 0,
    bytes: 0,
    trustedLinks: 0,
  });

  constructor(registry: Registry) {
    const registers = [registry];
    this.hits = new Counter({
      name: 'evergreen_cache_hits_total',
      help: 'Reads answered from the client-side cache (Redis CLIENT TRACKING keeps it exact), by kind',
      labelNames: ['kind'],
      registers,
    });
    this.misses = new Counter({
      name: 'evergreen_cache_misses_total',
      help: 'Reads that went to Redis: not cached, or the cache could not be trusted at that moment, by kind',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of CACHE_KINDS) {
      this.hits.inc({ kind }, 0);
      this.misses.inc({ kind }, 0);
    }
    this.invalidations = new Counter({
      name: 'evergreen_cache_invalidations_total',
      help: 'Keys Redis said changed (CLIENT TRACKING invalidation messages), each dropped from the cache',
      registers,
    });
    this.flushes = new Counter({
      name: 'evergreen_cache_flushes_total',
      help: "Cache flushes (whole, or one lagging replica's entries), by why an invalidation could be missed or late",
      labelNames: ['reason'],
      registers,
    });
    for (const reason of FLUSH_REASONS) this.flushes.inc({ reason }, 0);
    const entries: Gauge = new Gauge({
      name: 'evergreen_cache_entries',
      help: 'Entries in the client-side cache',
      registers,
      collect: () => entries.set(this.size().entries),
    });
    const bytes: Gauge = new Gauge({
      name: 'evergreen_cache_bytes',
      help: "The client-side cache's estimated size in bytes (bounded by CLIENT_CACHE_MAX_BYTES)",
      registers,
      collect: () => bytes.set(this.size().bytes),
    });
    const trusted: Gauge = new Gauge({
      name: 'evergreen_cache_trusted_links',
      help: 'Reading connections whose invalidations are known to arrive now (tracking on, heard from within 300 ms)',
      registers,
      collect: () => trusted.set(this.size().trustedLinks),
    });
  }

  /** Where the gauges read the cache's size at each scrape. */
  reportSize(size: () => { entries: number; bytes: number; trustedLinks: number }): void {
    this.size = size;
  }
}
