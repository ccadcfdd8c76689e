import { compareIds, type StockEvent } from './stock-events.js';

/** What a watcher writes to: one SSE stream. */
export interface StreamSink {
  /** Writes one event; false when the stream is gone (its client left, or it was dropped as too slow). */
  write(type: 'stock' | 'deleted' | 'reset', id: string, data: object): boolean;
}

/**
 * One open stream's place in the event stream. Every event reaches its sink through deliver(), which passes on
 * only events of its products after its cursor, in order: whichever way an event comes (the catch-up read, the
 * live tail, both), it is written once.
 */
export class Watcher {
  /** Events the live tail offered while the catch-up read was still under way. */
  private pending: StockEvent[] | undefined = [];

  constructor(
    readonly productIds: ReadonlySet<string>,
    /** the id of the last event written (or the snapshot's position): only later ones are written */
    private cursor: string,
    private readonly sink: StreamSink,
    /** told of every event written (for the delivery metrics) */
    private readonly written: (event: StockEvent) => void = () => {},
  ) {}

  get position(): string {
    return this.cursor;
  }

  /** From the live tail: queued until the catch-up is done, then written. */
  offer(event: StockEvent): void {
    if (this.pending) this.pending.push(event);
    else this.deliver(event);
  }

  deliver(event: StockEvent): void {
    if (!this.productIds.has(event.state.productId) || compareIds(event.id, this.cursor) <= 0) return;
    this.cursor = event.id;
    if (this.sink.write(event.type, event.id, event.state)) this.written(event);
  }

  /** Past entries of other products: later ones only, from here on. */
  skipTo(id: string): void {
    if (compareIds(id, this.cursor) > 0) this.cursor = id;
  }

  /** The catch-up is done: what the tail offered meanwhile, then everything as it comes. */
  goLive(): void {
    const queued = this.pending ?? [];
    this.pending = undefined;
    for (const event of queued) this.deliver(event);
  }
}
