import { counterSamples } from './target.js';

/**
 * The API instances' client-side cache in a scenario's window, from their /metrics before and after it:
 * `evergreen_cache_hits_total{kind}` and `evergreen_cache_misses_total{kind}` (product, page, token), summed over
 * every instance. A service without these counters reads as no lookups: the ratio is null, printed `—`.
 */

const HITS = 'evergreen_cache_hits_total';
const MISSES = 'evergreen_cache_misses_total';

/** Lookups by kind, summed over the instances' metrics texts. */
export type CacheCounts = Record<string, { hits: number; misses: number }>;

export interface CacheLookups {
  hits: number;
  misses: number;
  /** hits / (hits + misses); null without a lookup (or without the counters). */
  ratio: number | null;
}

/** The window's lookups over every kind, and by kind. */
export interface CacheOutcome extends CacheLookups {
  kinds: Record<string, CacheLookups>;
}

/** Each kind's hits and misses over every instance's /metrics text. */
export function cacheCounts(texts: string[]): CacheCounts {
  const counts: CacheCounts = {};
  for (const text of texts) {
    for (const [name, field] of [
      [HITS, 'hits'],
      [MISSES, 'misses'],
    ] as const) {
      for (const { labels, value } of counterSamples(text, name)) {
        const kind = labels.kind ?? '';
        counts[kind] ??= { hits: 0, misses: 0 };
        counts[kind][field] += value;
      }
    }
  }
  return counts;
}

const lookups = (hits: number, misses: number): CacheLookups => ({
  hits,
  misses,
  ratio: hits + misses > 0 ? hits / (hits + misses) : null,
});

/** Between two readings: each kind's hits and misses, and the ratio over every kind. */
export function cacheBetween(before: CacheCounts, after: CacheCounts): CacheOutcome {
  const kinds: Record<string, CacheLookups> = {};
  for (const [kind, now] of Object.entries(after)) {
    const was = before[kind] ?? { hits: 0, misses: 0 };
    kinds[kind] = lookups(Math.max(0, now.hits - was.hits), Math.max(0, now.misses - was.misses));
  }
  const sum = (field: 'hits' | 'misses') => Object.values(kinds).reduce((s, k) => s + k[field], 0);
  return { ...lookups(sum('hits'), sum('misses')), kinds };
}

/** `97.3%`, or `—` without a lookup. */
export const hitRatio = (cache: CacheLookups | undefined) =>
  cache?.ratio === null || cache?.ratio === undefined ? '—' : `${Math.round(cache.ratio * 1000) / 10}%`;
