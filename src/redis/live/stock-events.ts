import type { ChainableCommander } from 'ioredis';
import type { Keys } from '../keys.js';

/**
 * The stock events: one Redis Stream (keys.stockEvents) that every write moving a product's stock or price, or
 * deleting it, appends to inside its own MULTI — so an event exists exactly when its change does (an
 * acknowledged purchase's event survives whatever the purchase survives; a discarded one leaves none). Entries
 * hold absolute values, never deltas: a watcher that missed one is right again at the next.
 */

export type StockEventType = 'stock' | 'deleted';

/** What a watcher is sent (the `data:` of an SSE `stock` or `deleted` event). */
export interface StockState {
  productId: string;
  stock: number;
  priceCents: number;
  /** when the change was made (ISO-8601); for a snapshot, when it was read */
  at: string;
}

/** One entry of the stream: its id (Redis's `<ms>-<seq>`, the SSE `id:`) and what it says. */
export interface StockEvent {
  id: string;
  type: StockEventType;
  state: StockState;
}

// Short field names: a purchase appends one entry per line, kept up to STOCK_EVENTS_MAXLEN of them.
const F = { product: 'p', type: 't', stock: 's', price: 'c', at: 'at' } as const;

/** Queues the append of a product's new state (or its deletion) on the caller's MULTI. */
export class StockEvents {
  constructor(
    private readonly keys: Keys,
    /** entries kept, about (MAXLEN ~: Redis trims whole nodes, so a few more) */
    private readonly maxLen: number,
  ) {}

  changed(tx: ChainableCommander, state: StockState): void {
    this.append(tx, 'stock', state);
  }

  deleted(tx: ChainableCommander, state: StockState): void {
    this.append(tx, 'deleted', state);
  }

  private append(tx: ChainableCommander, type: StockEventType, s: StockState): void {
    tx.xadd(this.keys.stockEvents(), 'MAXLEN', '~', this.maxLen, '*', ...fields(type, s));
  }
}

const fields = (type: StockEventType, s: StockState) => [
  F.product,
  s.productId,
  F.type,
  type,
  F.stock,
  String(s.stock),
  F.price,
  String(s.priceCents),
  F.at,
  s.at,
];

/** An entry as XRANGE/XREAD return it; undefined when it is not one of ours (never written by StockEvents). */
export function parseEntry([id, raw]: [string, string[]]): StockEvent | undefined {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) f[raw[i]!] = raw[i + 1]!;
  const type = f[F.type];
  if ((type !== 'stock' && type !== 'deleted') || !f[F.product]) return undefined;
  return {
    id,
    type,
    state: { productId: f[F.product]!, stock: Number(f[F.stock]), priceCents: Number(f[F.price]), at: f[F.at] ?? '' },
  };
}

const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

/** Whether `id` is a stream entry id (`<ms>-<seq>`), as a client's Last-Event-ID must be. */
export const isStreamId = (id: string): boolean => STREAM_ID.test(id);

/** Orders two stream ids as Redis does (by milliseconds, then sequence); both must be isStreamId. */
export function compareIds(a: string, b: string): number {
  const [, am, as] = STREAM_ID.exec(a)!;
  const [, bm, bs] = STREAM_ID.exec(b)!;
  const ms = BigInt(am!) - BigInt(bm!);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as!) - BigInt(bs!);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The stream's position before any entry: every entry comes after it. */
export const BEFORE_ALL = '0-0';
