import * as units from '@grafana/grafana-foundation-sdk/units';
import { evergreenDashboard, finish, row } from './common.js';
import { statPanel, timeseriesPanel, type State } from './panels.js';

const UP_DOWN: State[] = [
  { value: 0, text: 'DOWN', color: 'red' },
  { value: 1, text: 'UP', color: 'green' },
];

const REQUESTS = 'http_request_duration_seconds_count{job="api"}';
const SERVER_ERRORS = 'http_request_duration_seconds_count{job="api",status_code=~"5.."}';
const requestRate = `sum(rate(${REQUESTS}[$__rate_interval]))`;
const errorRatio = `sum(rate(${SERVER_ERRORS}[$__rate_interval])) / (${requestRate} > 0)`;
const p99 =
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[$__rate_interval])))';
const purchasesPerMinute = (outcomeMatcher: string) =>
  `sum(rate(evergreen_purchases_total{job="api",${outcomeMatcher}}[$__rate_interval])) * 60`;

/** The on-call screen: is it up, is it fast, is it selling, and is anything firing. */
export function overviewDashboard() {
  const builder = evergreenDashboard({
    uid: 'evergreen-overview',
    title: 'Evergreen / Overview',
    description: 'On-call overview: is Evergreen up, fast and selling, and is any alert firing.',
  })
    .withRow(row('Is it up?'))
    .withPanel(
      statPanel({
        title: 'API instances up',
        description: 'API instances Prometheus scrapes (job="api"). Two are deployed: orange with one, red with none.',
        unit: units.Short,
        queries: [{ expr: 'sum(up{job="api"})' }],
        colors: ['red', [1, 'orange'], [2, 'green']],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Redis masters',
        description:
          'Redis nodes reporting role=master. Exactly one is healthy; 0 means no master (writes fail), ' +
          '2 or more means a split brain.',
        unit: units.Short,
        queries: [{ expr: 'count(redis_instance_info{job="redis",role="master"}) or vector(0)' }],
        colors: ['red', [1, 'green'], [2, 'red']],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Redis nodes up',
        description: 'Redis nodes the exporter reaches (redis_up, job="redis"), of three.',
        unit: units.Short,
        queries: [{ expr: 'sum(redis_up{job="redis"})' }],
        colors: ['red', [2, 'orange'], [3, 'green']],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Sentinels up',
        description: 'Sentinels the exporter reaches (redis_up, job="sentinel"), of three; a failover needs two.',
        unit: units.Short,
        queries: [{ expr: 'sum(redis_up{job="sentinel"})' }],
        colors: ['red', [2, 'orange'], [3, 'green']],
      }),
    )
    .withPanel(
      statPanel({
        title: 'NGINX up',
        description:
          'nginx_up from the NGINX exporter: 1 when stub_status answers. DOWN also when the exporter is gone.',
        unit: units.NoUnit,
        queries: [{ expr: 'max(nginx_up{job="nginx"}) or vector(0)' }],
        states: UP_DOWN,
        colors: ['red', [1, 'green']],
      }),
    )
    .withPanel(
      statPanel({
        title: 'Alerts firing',
        description: 'Alerting rules firing now (ALERTS{alertstate="firing"}); see Alertmanager for which.',
        unit: units.Short,
        queries: [{ expr: 'count(ALERTS{alertstate="firing"}) or vector(0)' }],
        colors: ['green', [1, 'red']],
      }),
    )
    .withRow(row('Is it fast?'))
    .withPanel(
      statPanel({
        title: 'Requests',
        description: 'API requests per second over all instances and routes (/metrics and /health excluded).',
        unit: units.RequestsPerSecond,
        queries: [{ expr: requestRate }],
        colors: ['blue'],
        width: 8,
      }),
    )
    .withPanel(
      statPanel({
        title: '5xx ratio',
        description: 'Share of API responses with a 5xx status. "no traffic" when there were no requests.',
        unit: units.PercentUnit,
        queries: [{ expr: errorRatio }],
        colors: ['green', [0.01, 'orange'], [0.05, 'red']],
        noValue: 'no traffic',
        width: 8,
      }),
    )
    .withPanel(
      statPanel({
        title: 'p99 latency',
        description: '99th percentile of API request duration, all routes, from the histogram buckets.',
        unit: units.Seconds,
        queries: [{ expr: p99 }],
        colors: ['green', [0.25, 'orange'], [1, 'red']],
        noValue: 'no traffic',
        width: 8,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Requests and 5xx',
        description: 'API requests per second, all of them and those answered with a 5xx.',
        unit: units.RequestsPerSecond,
        queries: [
          { expr: requestRate, legend: 'all' },
          { expr: `sum(rate(${SERVER_ERRORS}[$__rate_interval]))`, legend: '5xx' },
        ],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'p99 latency over time',
        description: '99th percentile of API request duration over all routes and instances.',
        unit: units.Seconds,
        queries: [{ expr: p99, legend: 'p99' }],
        min: 0,
      }),
    )
    .withRow(row('Is it selling?'))
    .withPanel(
      statPanel({
        title: 'Purchases created',
        description: 'Purchases created per minute (evergreen_purchases_total{outcome="created"}).',
        unit: units.OpsPerMinute,
        queries: [{ expr: purchasesPerMinute('outcome="created"') }],
        colors: ['blue'],
        width: 8,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Revenue per minute',
        description:
          'Money taken per minute by acknowledged purchases, in major units (evergreen_revenue_cents_total / 100). ' +
          'The API keeps integer minor units and names no currency, so no symbol is shown.',
        unit: units.Short,
        queries: [{ expr: 'sum(rate(evergreen_revenue_cents_total{job="api"}[$__rate_interval])) * 60 / 100' }],
        colors: ['blue'],
        decimals: 2,
        width: 8,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Failover fence',
        description:
          'FENCED while any API instance suspects a Redis failover: purchases wait and none is acknowledged ' +
          '(evergreen_failover_fence).',
        unit: units.NoUnit,
        queries: [{ expr: 'max(evergreen_failover_fence{job="api"})' }],
        states: [
          { value: 0, text: 'clear', color: 'green' },
          { value: 1, text: 'FENCED', color: 'red' },
        ],
        colors: ['green', [1, 'red']],
        width: 8,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Purchases per minute',
        description: 'Purchases created per minute, and those that failed (any outcome but created or replayed).',
        unit: units.OpsPerMinute,
        queries: [
          { expr: purchasesPerMinute('outcome="created"'), legend: 'created' },
          { expr: purchasesPerMinute('outcome!~"created|replayed"'), legend: 'failed' },
        ],
        min: 0,
        width: 24,
      }),
    );
  return finish(builder);
}
