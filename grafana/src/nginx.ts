import * as units from '@grafana/grafana-foundation-sdk/units';
import { evergreenDashboard, finish } from './common.js';
import { stateTimelinePanel, timeseriesPanel } from './panels.js';

const NGINX = 'job="nginx"';

/** The NGINX load balancer in front of the API instances, from stub_status. */
export function nginxDashboard() {
  const builder = evergreenDashboard({
    uid: 'evergreen-nginx',
    title: 'Evergreen / NGINX',
    description: 'The NGINX load balancer: up, requests, connections by state, accepted versus handled.',
  })
    .withPanel(
      stateTimelinePanel({
        title: 'NGINX up',
        description: 'nginx_up: the exporter reads stub_status. Scrape: Prometheus reaches the exporter (up).',
        unit: units.NoUnit,
        queries: [
          { expr: `nginx_up{${NGINX}}`, legend: 'nginx' },
          { expr: `up{${NGINX}}`, legend: 'exporter scrape' },
        ],
        states: [
          { value: 0, text: 'down', color: 'red' },
          { value: 1, text: 'up', color: 'green' },
        ],
        missing: { value: -1, text: 'no data', color: 'transparent' },
        width: 24,
        height: 5,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Requests',
        description: 'HTTP requests per second NGINX handled, all locations (API, health checks, anything else).',
        unit: units.RequestsPerSecond,
        queries: [{ expr: `sum(rate(nginx_http_requests_total{${NGINX}}[$__rate_interval]))`, legend: 'requests' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Connections by state',
        description:
          'Client connections: active (all), reading a request, writing a response, idle keep-alive (waiting).',
        unit: units.Short,
        queries: [
          { expr: `nginx_connections_active{${NGINX}}`, legend: 'active' },
          { expr: `nginx_connections_reading{${NGINX}}`, legend: 'reading' },
          { expr: `nginx_connections_writing{${NGINX}}`, legend: 'writing' },
          { expr: `nginx_connections_waiting{${NGINX}}`, legend: 'waiting' },
        ],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Connections accepted vs handled',
        description:
          'Connections accepted and handled per second; dropped is the difference (worker_connections or another ' +
          'resource limit reached). Dropped should be 0.',
        unit: units.CountsPerSecond,
        queries: [
          { expr: `rate(nginx_connections_accepted{${NGINX}}[$__rate_interval])`, legend: 'accepted' },
          { expr: `rate(nginx_connections_handled{${NGINX}}[$__rate_interval])`, legend: 'handled' },
          {
            expr:
              `rate(nginx_connections_accepted{${NGINX}}[$__rate_interval]) - ` +
              `rate(nginx_connections_handled{${NGINX}}[$__rate_interval])`,
            legend: 'dropped',
          },
        ],
        min: 0,
        width: 24,
      }),
    );
  return finish(builder);
}
