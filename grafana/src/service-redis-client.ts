import * as units from '@grafana/grafana-foundation-sdk/units';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { stateTimelinePanel, timeseriesPanel } from './panels.js';

/** Label matchers for the API instances the `instance` variable selects. */
export const API = 'job="api",instance=~"$instance"';

const CATALOG_READS = `evergreen_catalog_reads_total{${API}}`;

/** The Redis client as each API instance sees it: master, pool, fallbacks, revivals and WAIT outcomes. */
export function redisClientPanels(): cog.Builder<dashboard.Panel>[] {
  return [
    stateTimelinePanel({
      title: 'Believed master',
      description:
        'The Redis master address each API instance believes in (evergreen_redis_master). ' +
        'After a failover every instance should switch to the same new address.',
      unit: units.NoUnit,
      queries: [{ expr: `evergreen_redis_master{${API}} == 1`, legend: '{{instance}} → {{address}}' }],
      states: [{ value: 1, text: 'master', color: 'blue' }],
    }),
    timeseriesPanel({
      title: 'Master switches',
      description: 'Times each instance found the master at a new address, per rate interval (failovers seen).',
      unit: units.Short,
      queries: [
        {
          expr: `sum by (instance) (increase(evergreen_redis_master_switches_total{${API}}[$__rate_interval]))`,
          legend: '{{instance}}',
        },
      ],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Catalog reads by source',
      description: 'Catalog reads per second served by a replica, or by the master when no replica could answer.',
      unit: units.ReadsPerSecond,
      queries: [{ expr: `sum by (source) (rate(${CATALOG_READS}[$__rate_interval]))`, legend: '{{source}}' }],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Replica reads fallen back to master',
      description: 'Share of catalog reads the master served because no replica answered; 0 when replicas are fine.',
      unit: units.PercentUnit,
      queries: [
        {
          expr:
            `sum by (instance) (rate(evergreen_catalog_reads_total{${API},source="master"}[$__rate_interval])) / ` +
            `(sum by (instance) (rate(${CATALOG_READS}[$__rate_interval])) > 0)`,
          legend: '{{instance}}',
        },
      ],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Replica lag seen by the API',
      description:
        'How far behind the master each replica the catalog reads use is (evergreen_replica_lag_seconds: the age ' +
        'of the oldest write it lacks, or how long it has not answered). Past REPLICA_MAX_LAG_MS (1 s): no reads.',
      unit: units.Seconds,
      queries: [{ expr: `max by (replica) (evergreen_replica_lag_seconds{${API}})`, legend: '{{replica}}' }],
      min: 0,
      width: 8,
    }),
    stateTimelinePanel({
      title: 'Replicas out of catalog reads',
      description:
        'LAGGING while an instance keeps catalog reads off a replica (evergreen_replica_lagging): behind by more ' +
        'than REPLICA_MAX_LAG_MS or not answering its probe within 200 ms. Back after a second of keeping up.',
      unit: units.NoUnit,
      queries: [{ expr: `max by (replica) (evergreen_replica_lagging{${API}})`, legend: '{{replica}}' }],
      states: [
        { value: 0, text: 'in rotation', color: 'green' },
        { value: 1, text: 'LAGGING', color: 'red' },
      ],
      width: 8,
    }),
    timeseriesPanel({
      title: 'Catalog reads by replica',
      description: 'Catalog reads per second each replica served (a lagging one should serve none).',
      unit: units.ReadsPerSecond,
      queries: [
        {
          expr: `sum by (replica) (rate(evergreen_catalog_replica_reads_total{${API}}[$__rate_interval]))`,
          legend: '{{replica}}',
        },
      ],
      min: 0,
      width: 8,
    }),
    timeseriesPanel({
      title: 'Pool wait p99',
      description: '99th percentile of the time a purchase waited to borrow a transaction connection.',
      unit: units.Seconds,
      queries: [
        {
          expr:
            'histogram_quantile(0.99, sum by (le, instance) ' +
            `(rate(evergreen_redis_pool_wait_seconds_bucket{${API}}[$__rate_interval])))`,
          legend: '{{instance}}',
        },
      ],
      min: 0,
      width: 8,
    }),
    timeseriesPanel({
      title: 'Pool pending',
      description: 'Purchases waiting for a transaction connection right now (evergreen_redis_pool_pending).',
      unit: units.Short,
      queries: [{ expr: `evergreen_redis_pool_pending{${API}}`, legend: '{{instance}}' }],
      min: 0,
      width: 8,
    }),
    timeseriesPanel({
      title: 'Client revivals',
      description: 'Redis clients that ended on their own and were connected again, per rate interval.',
      unit: units.Short,
      queries: [
        {
          expr: `sum by (instance) (increase(evergreen_redis_client_revivals_total{${API}}[$__rate_interval]))`,
          legend: '{{instance}}',
        },
      ],
      min: 0,
      width: 8,
    }),
    timeseriesPanel({
      title: 'WAIT outcomes',
      description:
        'WAIT after a purchase per second: acked (replicas confirmed), timeout (too few replicas), ' +
        'fenced (a failover was under way). timeout and fenced answer NOT_DURABLE.',
      unit: units.OpsPerSecond,
      queries: [
        { expr: `sum by (result) (rate(evergreen_wait_total{${API}}[$__rate_interval]))`, legend: '{{result}}' },
      ],
      min: 0,
    }),
    stateTimelinePanel({
      title: 'Failover fence',
      description: 'FENCED while the instance suspects a failover: purchases wait, none is acknowledged.',
      unit: units.NoUnit,
      queries: [{ expr: `evergreen_failover_fence{${API}}`, legend: '{{instance}}' }],
      states: [
        { value: 0, text: 'clear', color: 'green' },
        { value: 1, text: 'FENCED', color: 'red' },
      ],
    }),
  ];
}
