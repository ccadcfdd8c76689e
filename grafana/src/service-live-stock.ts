import * as units from '@grafana/grafana-foundation-sdk/units';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { timeseriesPanel } from './panels.js';
import { API } from './service-redis-client.js';

const DELIVERY = `sum by (le) (rate(evergreen_sse_delivery_seconds_bucket{${API}}[$__rate_interval]))`;

/** Live stock: the server-sent event streams of each API instance, fed by its one tail of the stock events. */
export function liveStockPanels(): cog.Builder<dashboard.Panel>[] {
  return [
    timeseriesPanel({
      title: 'Live stock streams open',
      description:
        'Server-sent event streams (GET /products/:id/events, /products/events) open on each instance ' +
        '(evergreen_sse_streams); past SSE_MAX_CLIENTS a new one gets 503 TOO_MANY_STREAMS.',
      unit: units.Short,
      queries: [{ expr: `evergreen_sse_streams{${API}}`, legend: '{{instance}}' }],
      min: 0,
      width: 8,
    }),
    timeseriesPanel({
      title: 'Live stock events written',
      description:
        'Events written to streams per second, by type: stock (a change, or a snapshot on connect), deleted, ' +
        'reset (a resume that could not find its place). One per stream that got it.',
      unit: units.OpsPerSecond,
      queries: [
        { expr: `sum by (type) (rate(evergreen_sse_events_total{${API}}[$__rate_interval]))`, legend: '{{type}}' },
      ],
      min: 0,
      width: 8,
    }),
    timeseriesPanel({
      title: 'Live stock delivery and drops',
      description:
        'From a change to its event written to a watching stream, p50 and p99 (evergreen_sse_delivery_seconds); ' +
        'streams dropped per second by the instance (slow: a client reading slower than its events come; ' +
        'shutdown), and refused at the ceiling. A dropped client resumes with Last-Event-ID.',
      unit: units.Seconds,
      queries: [
        { expr: `histogram_quantile(0.5, ${DELIVERY})`, legend: 'delivery p50' },
        { expr: `histogram_quantile(0.99, ${DELIVERY})`, legend: 'delivery p99' },
        {
          expr: `sum by (reason) (rate(evergreen_sse_dropped_total{${API}}[$__rate_interval]))`,
          legend: 'dropped: {{reason}} (/s)',
        },
        { expr: `sum(rate(evergreen_sse_refused_total{${API}}[$__rate_interval]))`, legend: 'refused (/s)' },
      ],
      min: 0,
      width: 8,
    }),
  ];
}
