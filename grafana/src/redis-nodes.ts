import * as units from '@grafana/grafana-foundation-sdk/units';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { stateTimelinePanel, timeseriesPanel } from './panels.js';

/** Label matchers for the Redis nodes the `instance` variable selects. */
export const REDIS = 'job="redis",instance=~"$instance"';

const OK_ERR = [
  { value: 0, text: 'err', color: 'red' },
  { value: 1, text: 'ok', color: 'green' },
];

/** Each Redis node's load: commands, clients, memory, keys, evictions, network. */
export function redisLoadPanels(): cog.Builder<dashboard.Panel>[] {
  return [
    timeseriesPanel({
      title: 'Commands',
      description: 'Commands processed per second by each Redis node (reads go to replicas, writes to the master).',
      unit: units.OpsPerSecond,
      queries: [
        {
          expr: `sum by (instance) (rate(redis_commands_processed_total{${REDIS}}[$__rate_interval]))`,
          legend: '{{instance}}',
        },
      ],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Connected clients',
      description: 'Client connections on each Redis node (API pools, Sentinels, replicas, the exporter).',
      unit: units.Short,
      queries: [{ expr: `redis_connected_clients{${REDIS}}`, legend: '{{instance}}' }],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Memory',
      description: 'Memory used by the data set and RSS per node; maxmemory when one is set (0 = none, not drawn).',
      unit: units.BytesIEC,
      queries: [
        { expr: `redis_memory_used_bytes{${REDIS}}`, legend: 'used {{instance}}' },
        { expr: `redis_memory_used_rss_bytes{${REDIS}}`, legend: 'rss {{instance}}' },
        { expr: `redis_memory_max_bytes{${REDIS}} > 0`, legend: 'max {{instance}}' },
      ],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Keys',
      description: 'Keys in db0 per node; replicas should match the master.',
      unit: units.Short,
      queries: [{ expr: `redis_db_keys{${REDIS},db="db0"}`, legend: '{{instance}}' }],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Evicted and expired keys',
      description: 'Keys evicted (memory pressure: data lost) and expired (TTL) per second. Evictions should be 0.',
      unit: units.CountsPerSecond,
      queries: [
        { expr: `rate(redis_evicted_keys_total{${REDIS}}[$__rate_interval])`, legend: 'evicted {{instance}}' },
        { expr: `rate(redis_expired_keys_total{${REDIS}}[$__rate_interval])`, legend: 'expired {{instance}}' },
      ],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Network',
      description: 'Bytes per second received and sent by each node, replication stream included.',
      unit: units.BytesPerSecondSI,
      queries: [
        { expr: `rate(redis_net_input_bytes_total{${REDIS}}[$__rate_interval])`, legend: 'in {{instance}}' },
        { expr: `rate(redis_net_output_bytes_total{${REDIS}}[$__rate_interval])`, legend: 'out {{instance}}' },
      ],
      min: 0,
    }),
  ];
}

/** Each Redis node's persistence: AOF and RDB status, time and changes since the last save. */
export function redisPersistencePanels(): cog.Builder<dashboard.Panel>[] {
  return [
    stateTimelinePanel({
      title: 'Persistence status',
      description: 'Last AOF write, last AOF rewrite and last RDB save of each node: ok or err (disk full, I/O error).',
      unit: units.NoUnit,
      queries: [
        { expr: `redis_aof_last_write_status{${REDIS}}`, legend: '{{instance}} AOF write' },
        { expr: `redis_aof_last_bgrewrite_status{${REDIS}}`, legend: '{{instance}} AOF rewrite' },
        { expr: `redis_rdb_last_bgsave_status{${REDIS}}`, legend: '{{instance}} RDB save' },
      ],
      states: OK_ERR,
      width: 24,
    }),
    timeseriesPanel({
      title: 'Time since last RDB save',
      description: 'Seconds since each node last saved an RDB snapshot.',
      unit: units.Seconds,
      queries: [{ expr: `time() - redis_rdb_last_save_timestamp_seconds{${REDIS}}`, legend: '{{instance}}' }],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Changes since last RDB save',
      description: 'Writes not yet in an RDB snapshot on each node (the AOF, when enabled, has them).',
      unit: units.Short,
      queries: [{ expr: `redis_rdb_changes_since_last_save{${REDIS}}`, legend: '{{instance}}' }],
      min: 0,
    }),
  ];
}
