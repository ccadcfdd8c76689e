import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Why a stream was ended by the instance rather than by its client. */
export const DROP_REASONS = ['slow', 'shutdown'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** The live stock streams (server-sent events): exported from the start, at 0. */
export class LiveMetrics {
  readonly streams: Gauge;
  readonly events: Counter<'type'>;
  readonly drops: Counter<'reason'>;
  readonly refused: Counter;
  readonly delivery: Histogram;
  private open: () => number = () => 0;

  constructor(registry: Registry) {
    const registers = [registry];
    this.streams = new Gauge({
      name: 'evergreen_sse_streams',
      help: 'Open live stock streams (GET /products/:id/events, /products/events) on this instance',
      registers,
      collect: () => this.streams.set(this.open()),
    });
    this.events = new Counter({
      name: 'evergreen_sse_events_total',
      help: 'Events written to live stock streams, by type (stock, deleted, reset); one per stream that got it',
      labelNames: ['type'],
      registers,
    });
    for (const type of ['stock', 'deleted', 'reset']) this.events.inc({ type }, 0);
    this.drops = new Counter({
      name: 'evergreen_sse_dropped_total',
      help: 'Streams the instance ended: slow (its unsent buffer passed SSE_MAX_BUFFER_BYTES), shutdown',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of DROP_REASONS) this.drops.inc({ reason }, 0);
    this.refused = new Counter({
      name: 'evergreen_sse_refused_total',
      help: 'Streams refused with 503 because the instance had SSE_MAX_CLIENTS open',
      registers,
    });
    this.delivery = new Histogram({
      name: 'evergreen_sse_delivery_seconds',
      help: 'From a change (its event time) to its event written to a watching stream',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }

  /** How many streams are open, read at each scrape. */
  reportOpen(count: () => number): void {
    this.open = count;
  }
}
