/**
 * What every Sentinel says about our master, folded into one answer: may a write acknowledged now be
 * trusted to survive? Pure logic (no I/O), fed by failover-watch.ts.
 *
 * Why: a master paused past down-after and resumed during the failover still has a replica attached, so
 * `WAIT 1` succeeds on it, yet everything it takes is discarded when the Sentinels repoint that replica.
 * Sentinel announces a failover before it promotes anyone (`+sdown`, `+odown`, `+try-failover`), so a
 * purchase whose EXEC…WAIT ran while any Sentinel was doubting the master, or that spanned a change of
 * `epoch`, is not acknowledged.
 */

export interface Address {
  host: string;
  port: number;
}

/** One Sentinel pub/sub message, about our master (other instances' events are dropped by the parser). */
export type SentinelEvent =
  | { kind: 'down' | 'up' | 'failover' | 'failover-over'; master: Address }
  | { kind: 'switch'; from: Address; to: Address };

/** What `SENTINEL MASTER <name>` told us when a Sentinel's subscription (re)started. */
export interface SentinelView {
  master: Address;
  /** its `flags`: s_down, o_down, failover_in_progress, … */
  flags: string[];
  failoverTimeoutMs: number;
}

const CHANNELS: Record<string, SentinelEvent['kind']> = {
  '+sdown': 'down',
  '+odown': 'down',
  '-sdown': 'up',
  '-odown': 'up',
  '+try-failover': 'failover',
  '+elected-leader': 'failover',
  '+vote-for-leader': 'failover',
  '+failover-state-select-slave': 'failover',
  '+selected-slave': 'failover',
  '+promoted-slave': 'failover',
  '+failover-end': 'failover-over',
  '+failover-end-for-timeout': 'failover-over',
  '-failover-abort-not-elected': 'failover-over',
  '-failover-abort-no-good-slave': 'failover-over',
  '-failover-abort-slave-timeout': 'failover-over',
  '+switch-master': 'switch',
};

export const SENTINEL_CHANNELS = Object.keys(CHANNELS);

const sameAddress = (a: Address, b: Address) => a.host === b.host && a.port === b.port;
export const formatAddress = (a: Address) => `${a.host}:${a.port}`;

/**
 * `+sdown` → `master evergreen 10.0.0.1 6379`; `+selected-slave` → `slave 10.0.0.2:6380 10.0.0.2 6380 @ evergreen
 * 10.0.0.1 6379`; `+switch-master` → `evergreen 10.0.0.1 6379 10.0.0.2 6380`. Undefined when not about our master.
 */
export function parseSentinelEvent(channel: string, message: string, masterName: string): SentinelEvent | undefined {
  const kind = CHANNELS[channel];
  const words = message.split(' ');
  if (kind === undefined) return undefined;
  if (kind === 'switch') {
    const [name, fromHost, fromPort, toHost, toPort] = words;
    if (name !== masterName || !toHost) return undefined;
    return { kind, from: { host: fromHost!, port: Number(fromPort) }, to: { host: toHost, port: Number(toPort) } };
  }
  // A replica or Sentinel going down or up says nothing about the master; a replica's part in a failover
  // (+selected-slave, +promoted-slave) belongs to the failover of the master named after the '@'.
  const at = words.indexOf('@');
  if (at >= 0 && (kind === 'down' || kind === 'up')) return undefined;
  const [type, name, host, port] = at >= 0 ? ['master', ...words.slice(at + 1)] : words;
  if (type !== 'master' || name !== masterName || !host) return undefined;
  return { kind, master: { host, port: Number(port) } };
}

interface SentinelState {
  down: boolean;
  /** When its failover flag lapses if no end was heard (a missed message must not fence for ever). */
  failoverUntil: number;
  failoverTimeoutMs: number;
}

export class FailoverFence {
  /** Bumped whenever the fence goes up and whenever the master changes. */
  epoch = 0;
  master: Address | undefined;
  private readonly sentinels = new Map<string, SentinelState>();
  private wasFenced = true;

  constructor(
    private readonly sentinelCount: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A Sentinel's subscription is live and this is what it reported right after subscribing. */
  connected(id: string, view: SentinelView): void {
    if (!this.master) this.master = view.master;
    const failover = view.flags.includes('failover_in_progress');
    const aboutOurs = sameAddress(view.master, this.master);
    this.sentinels.set(id, {
      // A Sentinel that names another master than ours doubts ours, as far as we can tell.
      down: !aboutOurs || view.flags.some((f) => f === 's_down' || f === 'o_down'),
      failoverUntil: failover ? this.now() + view.failoverTimeoutMs : 0,
      failoverTimeoutMs: view.failoverTimeoutMs,
    });
    this.epoch += 1; // it may have said things while we were not listening
    this.settle();
  }

  disconnected(id: string): void {
    if (this.sentinels.delete(id)) this.epoch += 1;
    this.settle();
  }

  /** Applies one event from Sentinel `id`; returns the new master on a switch. */
  apply(id: string, event: SentinelEvent): Address | undefined {
    const state = this.sentinels.get(id);
    if (event.kind === 'switch') {
      if (this.master && sameAddress(this.master, event.to)) return undefined; // another Sentinel confirming
      this.master = event.to;
      this.epoch += 1;
      // Every doubt so far was about the old master.
      for (const s of this.sentinels.values()) Object.assign(s, { down: false, failoverUntil: 0 });
      this.settle();
      return event.to;
    }
    if (!state || !this.master || !sameAddress(event.master, this.master)) return undefined;
    if (event.kind === 'down') state.down = true;
    else if (event.kind === 'up') state.down = false;
    else if (event.kind === 'failover') state.failoverUntil = this.now() + state.failoverTimeoutMs;
    else state.failoverUntil = 0;
    this.settle();
    return undefined;
  }

  /** Sentinels we hear from right now. */
  get live(): number {
    return this.sentinels.size;
  }

  /**
   * Up while we hear fewer than a majority of the Sentinels (we could miss a failover), or any of them
   * doubts the master or runs a failover of it.
   */
  get fenced(): boolean {
    if (!this.master || this.live <= this.sentinelCount / 2) return true;
    const now = this.now();
    return [...this.sentinels.values()].some((s) => s.down || s.failoverUntil > now);
  }

  private settle(): void {
    const fenced = this.fenced;
    if (fenced && !this.wasFenced) this.epoch += 1;
    this.wasFenced = fenced;
  }
}
