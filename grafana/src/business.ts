import * as units from '@grafana/grafana-foundation-sdk/units';
import { evergreenDashboard, finish, row } from './common.js';
import { statPanel, timeseriesPanel } from './panels.js';

const API = 'job="api",instance=~"$instance"';
const PURCHASES = `evergreen_purchases_total{${API}}`;

const perMinute = (expr: string) => `${expr} * 60`;
const rate = (selector: string, by = '') => `sum${by ? ` by (${by})` : ''} (rate(${selector}[$__rate_interval]))`;

const createdPerMinute = perMinute(rate(`evergreen_purchases_total{${API},outcome="created"}`));
const unitsPerMinute = perMinute(rate(`evergreen_units_sold_total{${API}}`));
// Revenue in major units: the counter is in cents and the API names no currency.
const revenuePerMinute = `${perMinute(rate(`evergreen_revenue_cents_total{${API}}`))} / 100`;
const cancelledPerMinute = perMinute(rate(`evergreen_cancellations_total{${API}}`));
const refundedPerMinute = `${perMinute(rate(`evergreen_refunded_cents_total{${API}}`))} / 100`;
// Taken minus given back, both in cents before the one division.
const takenCents = rate(`evergreen_revenue_cents_total{${API}}`);
const refundedCents = rate(`evergreen_refunded_cents_total{${API}}`);
const netRevenuePerMinute = `${perMinute(`(${takenCents} - ${refundedCents})`)} / 100`;
const outOfStock = rate(`evergreen_purchases_total{${API},outcome="out_of_stock"}`);
const outOfStockRatio = `${outOfStock} / (${rate(PURCHASES)} > 0)`;

const REFUND_NOTE =
  'A cancellation gives back what its purchase took (evergreen_refunded_cents_total / 100), counted when the ' +
  'cancellation is acknowledged, which may be long after the sale: net revenue can dip below zero for a while.';

const REVENUE_NOTE =
  'In major units (evergreen_revenue_cents_total / 100): the API keeps integer minor units and names no currency, ' +
  'so no symbol is shown.';

/**
 * Is Evergreen selling: purchases by outcome, units, revenue, cancellations and refunds, and what refused or retried
 * a purchase or login.
 */
export function businessDashboard() {
  const builder = evergreenDashboard({
    uid: 'evergreen-business',
    title: 'Evergreen / Business',
    description:
      'Purchases by outcome, units sold, revenue, cancellations and refunds, out-of-stock, replays, retries, ' +
      'NOT_DURABLE, login limits.',
    instanceJob: 'api',
  })
    .withRow(row('Now'))
    .withPanel(
      statPanel({
        title: 'Purchases created',
        description: 'Purchases created per minute.',
        unit: units.OpsPerMinute,
        queries: [{ expr: createdPerMinute }],
        colors: ['blue'],
        width: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Units sold',
        description: 'Units sold per minute by acknowledged purchases.',
        unit: units.CountsPerMinute,
        queries: [{ expr: unitsPerMinute }],
        colors: ['blue'],
        width: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Revenue per minute',
        description: `Money taken per minute. ${REVENUE_NOTE}`,
        unit: units.Short,
        queries: [{ expr: revenuePerMinute }],
        colors: ['blue'],
        decimals: 2,
        width: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Cancellations',
        description: 'Purchases cancelled per minute (acknowledged: the stock is back).',
        unit: units.OpsPerMinute,
        queries: [{ expr: cancelledPerMinute }],
        colors: ['blue'],
        width: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Net revenue per minute',
        description: `Money taken minus money given back by cancellations, per minute. ${REFUND_NOTE} ${REVENUE_NOTE}`,
        unit: units.Short,
        queries: [{ expr: netRevenuePerMinute }],
        colors: ['blue'],
        decimals: 2,
        width: 4,
      }),
    )
    .withPanel(
      statPanel({
        title: 'Out-of-stock ratio',
        description: 'Share of purchase requests refused because the product had too little stock.',
        unit: units.PercentUnit,
        queries: [{ expr: outOfStockRatio }],
        colors: ['green', [0.1, 'orange'], [0.5, 'red']],
        noValue: 'no purchases',
        width: 4,
      }),
    )
    .withRow(row('Sales'))
    .withPanel(
      timeseriesPanel({
        title: 'Purchases by outcome',
        description:
          'Purchase requests per minute by outcome: created, replayed (same Idempotency-Key), out_of_stock, ' +
          'not_durable (no replica confirmed), try_again (contention), unavailable, and the other refusals.',
        unit: units.OpsPerMinute,
        queries: [{ expr: perMinute(rate(PURCHASES, 'outcome')), legend: '{{outcome}}' }],
        min: 0,
        width: 24,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Units sold',
        description: 'Units sold per minute by acknowledged purchases.',
        unit: units.CountsPerMinute,
        queries: [{ expr: unitsPerMinute, legend: 'units' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Revenue',
        description: `Money taken per minute. ${REVENUE_NOTE}`,
        unit: units.Short,
        queries: [{ expr: revenuePerMinute, legend: 'revenue per minute' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Cancellations',
        description:
          'Purchases cancelled per minute, by their owner within CANCEL_WINDOW_SECONDS or by an admin; a repeated ' +
          'cancellation of the same purchase is not counted again.',
        unit: units.OpsPerMinute,
        queries: [{ expr: cancelledPerMinute, legend: 'cancellations' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Refunds and net revenue',
        description:
          `Money given back per minute by cancellations, and revenue net of it. ${REFUND_NOTE} ` + REVENUE_NOTE,
        unit: units.Short,
        queries: [
          { expr: refundedPerMinute, legend: 'refunded per minute' },
          { expr: netRevenuePerMinute, legend: 'net revenue per minute' },
        ],
      }),
    )
    .withRow(row('Refusals and retries'))
    .withPanel(
      timeseriesPanel({
        title: 'Out-of-stock ratio',
        description: 'Share of purchase requests refused as out of stock.',
        unit: units.PercentUnit,
        queries: [{ expr: outOfStockRatio, legend: 'out of stock' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Idempotent replays',
        description:
          'Purchases per minute answered from an earlier request with the same Idempotency-Key (client retries).',
        unit: units.OpsPerMinute,
        queries: [{ expr: perMinute(rate(`evergreen_idempotent_replays_total{${API}}`)), legend: 'replays' }],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'WATCH retries',
        description:
          'Purchase transactions retried per minute because a watched key changed (contention on a product).',
        unit: units.OpsPerMinute,
        queries: [
          {
            expr: perMinute(rate(`evergreen_purchase_watch_retries_total{${API}}`, 'instance')),
            legend: '{{instance}}',
          },
        ],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'NOT_DURABLE',
        description:
          'Purchases per minute answered 503 NOT_DURABLE, and the WAIT results behind them: ' +
          'timeout (too few replicas confirmed) or fenced (a failover was under way).',
        unit: units.OpsPerMinute,
        queries: [
          { expr: perMinute(rate(`evergreen_purchases_total{${API},outcome="not_durable"}`)), legend: 'NOT_DURABLE' },
          {
            expr: perMinute(rate(`evergreen_wait_total{${API},result=~"timeout|fenced"}`, 'result')),
            legend: 'WAIT {{result}}',
          },
        ],
        min: 0,
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Login-limit refusals',
        description: 'Logins refused with 429 per minute, by the limit exceeded: per client IP or per username.',
        unit: units.OpsPerMinute,
        queries: [{ expr: perMinute(rate(`evergreen_login_limited_total{${API}}`, 'limit')), legend: '{{limit}}' }],
        min: 0,
        width: 24,
      }),
    );
  return finish(builder);
}
