import * as units from '@grafana/grafana-foundation-sdk/units';
import { evergreenDashboard, finish, row } from './common.js';
import { stateTimelinePanel, timeseriesPanel, type Query } from './panels.js';
import { clientCachePanels } from './service-client-cache.js';
import { liveStockPanels } from './service-live-stock.js';
import { API, redisClientPanels } from './service-redis-client.js';

const REQUESTS = `http_request_duration_seconds_count{${API}}`;
const SERVER_ERRORS = `http_request_duration_seconds_count{${API},status_code=~"5.."}`;
const BUCKETS = `http_request_duration_seconds_bucket{${API}}`;

const requestRate = (by: string) => `sum by (${by}) (rate(${REQUESTS}[$__rate_interval]))`;
const errorRatio = (by: string) =>
  `sum by (${by}) (rate(${SERVER_ERRORS}[$__rate_interval])) / (${requestRate(by)} > 0)`;
const latencyQuantiles = (by: string): Query[] =>
  [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le, ${by}) (rate(${BUCKETS}[$__rate_interval])))`,
    legend: `p${q * 100} {{${by}}}`,
  }));

/** The API service: traffic, errors and latency per route and instance, the Node process, Redis client, cache. */
export function serviceDashboard() {
  const builder = evergreenDashboard({
    uid: 'evergreen-service',
    title: 'Evergreen / Service',
    description:
      'The Evergreen API: requests, errors and latency per route and instance, the process, the Redis client ' +
      'and its client-side cache.',
    instanceJob: 'api',
  })
    .withRow(row('Traffic and errors'))
    .withPanel(
      timeseriesPanel({
        title: 'Requests by route',
        description: 'Requests per second by route pattern (/metrics and /health are not counted).',
        unit: units.RequestsPerSecond,
        queries: [{ expr: requestRate('route'), legend: '{{route}}' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Requests by instance',
        description: 'Requests per second served by each API instance; NGINX balances them.',
        unit: units.RequestsPerSecond,
        queries: [{ expr: requestRate('instance'), legend: '{{instance}}' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Responses by status code',
        description: 'Responses per second by HTTP status code, stacked.',
        unit: units.RequestsPerSecond,
        queries: [{ expr: requestRate('status_code'), legend: '{{status_code}}' }],
        min: 0,
        stacked: true,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: '5xx ratio by route',
        description: 'Share of responses with a 5xx status, by route. No point where a route had no traffic.',
        unit: units.PercentUnit,
        queries: [{ expr: errorRatio('route'), legend: '{{route}}' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: '5xx ratio by instance',
        description: 'Share of responses with a 5xx status, by API instance.',
        unit: units.PercentUnit,
        queries: [{ expr: errorRatio('instance'), legend: '{{instance}}' }],
        min: 0,
        width: 24,
      }),
    )
    .withRow(row('Latency'))
    .withPanel(
      timeseriesPanel({
        title: 'Latency by route',
        description: 'p50, p95 and p99 request duration by route, from http_request_duration_seconds buckets.',
        unit: units.Seconds,
        queries: latencyQuantiles('route'),
        min: 0,
        height: 10,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Latency by instance',
        description: 'p50, p95 and p99 request duration by API instance, all routes.',
        unit: units.Seconds,
        queries: latencyQuantiles('instance'),
        min: 0,
        height: 10,
      }),
    )
    .withRow(row('Process'))
    .withPanel(
      stateTimelinePanel({
        title: 'Instances up',
        description: 'Whether Prometheus scrapes each API instance (up{job="api"}).',
        unit: units.NoUnit,
        queries: [{ expr: `up{${API}}`, legend: '{{instance}}' }],
        states: [
          { value: 0, text: 'down', color: 'red' },
          { value: 1, text: 'up', color: 'green' },
        ],
        missing: { value: -1, text: 'no data', color: 'transparent' },
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Event-loop lag',
        description: 'Node.js event-loop lag, p99 and mean; a busy or blocked loop delays every request.',
        unit: units.Seconds,
        queries: [
          { expr: `nodejs_eventloop_lag_p99_seconds{${API}}`, legend: 'p99 {{instance}}' },
          { expr: `nodejs_eventloop_lag_mean_seconds{${API}}`, legend: 'mean {{instance}}' },
        ],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'CPU',
        description: 'CPU time used per second by each API process: 100% is one core.',
        unit: units.PercentUnit,
        queries: [{ expr: `rate(process_cpu_seconds_total{${API}}[$__rate_interval])`, legend: '{{instance}}' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Memory',
        description: 'Resident memory (RSS) and V8 heap in use, per API process.',
        unit: units.BytesIEC,
        queries: [
          { expr: `process_resident_memory_bytes{${API}}`, legend: 'rss {{instance}}' },
          { expr: `nodejs_heap_size_used_bytes{${API}}`, legend: 'heap used {{instance}}' },
        ],
        min: 0,
      }),
    )
    .withRow(row('Redis client'));
  for (const panel of redisClientPanels()) builder.withPanel(panel);
  builder.withRow(row('Client cache'));
  for (const panel of clientCachePanels()) builder.withPanel(panel);
  builder.withRow(row('Live stock'));
  for (const panel of liveStockPanels()) builder.withPanel(panel);
  return finish(builder);
}
