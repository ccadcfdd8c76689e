import * as units from '@grafana/grafana-foundation-sdk/units';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { timeseriesPanel } from './panels.js';
import { API } from './service-redis-client.js';

const rateByKind = (metric: string) => `sum by (kind) (rate(${metric}{${API}}[$__rate_interval]))`;
const HITS = rateByKind('evergreen_cache_hits_total');
const MISSES = rateByKind('evergreen_cache_misses_total');

/** The server-assisted client-side cache (Redis CLIENT TRACKING) of each API instance. */
export function clientCachePanels(): cog.Builder<dashboard.Panel>[] {
  return [
    timeseriesPanel({
      title: 'Cache hit ratio by kind',
      description:
        'Share of cache lookups answered from the local cache, all selected instances together, by kind: ' +
        "product (a product by id), page (a catalog page's id range), token (revocation and the user's live " +
        'role/session version). No point where a kind had no lookups.',
      unit: units.PercentUnit,
      queries: [{ expr: `${HITS} / (${HITS} + ${MISSES} > 0)`, legend: '{{kind}}' }],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Cache invalidations',
      description:
        'Keys per second Redis told each instance had changed (CLIENT TRACKING invalidations), ' +
        'so it dropped them from its cache.',
      unit: units.OpsPerSecond,
      queries: [
        {
          expr: `sum by (instance) (rate(evergreen_cache_invalidations_total{${API}}[$__rate_interval]))`,
          legend: '{{instance}}',
        },
      ],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Cache flushes by reason',
      description:
        'Whole-cache flushes per second, all selected instances together, by reason: reader-reconnect, ' +
        "invalidation-lost, invalidation-silent, switch-master, fence, flushdb. Each empties an instance's " +
        'cache, so the hit ratio dips after it.',
      unit: units.OpsPerSecond,
      queries: [
        {
          expr: `sum by (reason) (rate(evergreen_cache_flushes_total{${API}}[$__rate_interval]))`,
          legend: '{{reason}}',
        },
      ],
      min: 0,
      width: 24,
    }),
    timeseriesPanel({
      title: 'Cache entries',
      description: "Entries in each instance's LRU cache right now (evergreen_cache_entries).",
      unit: units.Short,
      queries: [{ expr: `evergreen_cache_entries{${API}}`, legend: '{{instance}}' }],
      min: 0,
      width: 8,
    }),
    timeseriesPanel({
      title: 'Cache size',
      description: "Estimated bytes held by each instance's LRU cache (evergreen_cache_bytes).",
      unit: units.BytesIEC,
      queries: [{ expr: `evergreen_cache_bytes{${API}}`, legend: '{{instance}}' }],
      min: 0,
      width: 8,
    }),
    timeseriesPanel({
      title: 'Cache trusted links',
      description:
        'Reading + invalidation connection pairs each instance trusts now: tracking on and heard from within ' +
        'the freshness window (evergreen_cache_trusted_links). 3 normally: two replica readers, one master reader.',
      unit: units.Short,
      queries: [{ expr: `evergreen_cache_trusted_links{${API}}`, legend: '{{instance}}' }],
      min: 0,
      width: 8,
    }),
  ];
}
