/**
 * Replica lag, in time: a replica lags by L when the oldest write it does not have was made L ago. Pure logic (no
 * I/O, time passed in) so that each rule can be tested alone; replica-lag-probe.ts feeds it from Redis.
 *
 * The master's replication offset is sampled every tick; the history keeps the first time each new offset was
 * seen. A replica's own offset R is missing every write past R: the oldest of them was made before the first
 * sample whose offset exceeds R was taken, so lag ≥ (when R was read) − (that sample's time). The estimate is a
 * lower bound, short by at most one tick. An idle master's offset does not move, so no sample exceeds the offset
 * of a replica that has everything: lag 0, however long ago the last write was.
 */

/** One sample of the master's replication offset: `at` is when its answer arrived (the offset was reached by then). */
interface MasterSample {
  at: number;
  offset: number;
}

// Enough history for a minute of a write every tick at 250 ms; an older gap is reported as "at least this old".
const HISTORY = 256;

export class MasterOffsets {
  private readonly samples: MasterSample[] = [];

  /** The master's offset as read at `at`; only a new (larger) offset is kept, with the time it was first seen. */
  record(at: number, offset: number): void {
    const last = this.samples.at(-1);
    if (last && offset <= last.offset) {
      // A smaller offset is another history (a new master that had less): start again from it.
      if (offset < last.offset) this.clear();
      else return;
    }
    this.samples.push({ at, offset });
    if (this.samples.length > HISTORY) this.samples.shift();
  }

  /** Forgets everything: after a master switch, offsets of the old history say nothing about the new one. */
  clear(): void {
    this.samples.length = 0;
  }

  /** How long ago (as of `at`) the oldest write past `replicaOffset` was made: 0 when the master had no more. */
  lagMs(replicaOffset: number, at: number): number {
    // Samples are in increasing offset order: the first one past the replica's offset.
    const first = this.samples.find((s) => s.offset > replicaOffset);
    return first ? Math.max(0, at - first.at) : 0;
  }
}

/** What a probe of a replica found. */
export type ProbeResult =
  /** it answered ROLE: its replication link's state and its offset (a node that says `master` has everything) */
  | { kind: 'answer'; sentAt: number; role: 'slave' | 'master'; linkUp: boolean; offset: number }
  /** no answer yet, `sentAt` being when the probe left */
  | { kind: 'silent'; sentAt: number }
  /** the probe failed (the connection broke under it) */
  | { kind: 'error'; sentAt: number };

export interface LagSettings {
  /** More lag than this takes a replica out of rotation (REPLICA_MAX_LAG_MS). */
  maxLagMs: number;
  /** A probe unanswered for this long means the replica is stopped or swamped: out of rotation. */
  probeTimeoutMs: number;
  /** A replica out of rotation comes back after answering in time, with lag under the threshold, this long. */
  readmitAfterMs: number;
}

/** Whether reads may go to the replica: `unknown` until its first answer (not in rotation meanwhile). */
export type Rotation = 'unknown' | 'in' | 'out';

/** What changed after an observation: the caller flushes what it cached from a replica that has just left. */
export interface Verdict {
  lagMs: number;
  rotation: Rotation;
  /** true when this observation took the replica out of rotation */
  left: boolean;
  /** true when this observation brought it back into rotation after it had left */
  back: boolean;
}

/**
 * One replica node: the latest lag estimate and whether reads may go there, with hysteresis (out at once,
 * back only after `readmitAfterMs` of good probes). A node never probed before is unknown: out until it answers.
 */
export class ReplicaLag {
  private rotationNow: Rotation = 'unknown';
  private lag = 0;
  /** The offset it last answered with. */
  private offset: number | undefined;
  /** When the first probe of the current run of unanswered ones left. */
  private silentSince: number | undefined;
  /** Since when every probe was good, while out of rotation. */
  private goodSince: number | undefined;

  constructor(private readonly settings: LagSettings) {}

  get rotation(): Rotation {
    return this.rotationNow;
  }

  get lagMs(): number {
    return this.lag;
  }

  /** Folds one probe's result in, as of `now`, against the master's history. */
  observe(now: number, probe: ProbeResult, master: MasterOffsets): Verdict {
    const before = this.rotationNow;
    const good = this.judge(now, probe, master);
    if (good === false) {
      this.rotationNow = 'out';
      this.goodSince = undefined;
    } else if (good && this.rotationNow === 'unknown') {
      this.rotationNow = 'in';
    } else if (good && this.rotationNow === 'out') {
      this.goodSince ??= now;
      if (now - this.goodSince >= this.settings.readmitAfterMs) {
        this.rotationNow = 'in';
        this.goodSince = undefined;
      }
    }
    const after = this.rotationNow;
    return {
      lagMs: this.lag,
      rotation: after,
      left: before !== 'out' && after === 'out',
      back: before === 'out' && after === 'in',
    };
  }

  /** Updates the lag estimate; true: a good probe, false: a bad one, undefined: too early to say (still waiting). */
  private judge(now: number, probe: ProbeResult, master: MasterOffsets): boolean | undefined {
    const { maxLagMs, probeTimeoutMs } = this.settings;
    if (probe.kind === 'answer') {
      this.silentSince = undefined;
      if (probe.role === 'master') {
        this.offset = undefined;
        this.lag = 0;
        return true;
      }
      this.offset = probe.offset;
      this.lag = master.lagMs(probe.offset, probe.sentAt);
      // A replica whose link to the master is down gets nothing new, whatever its offset says.
      return probe.linkUp && this.lag <= maxLagMs;
    }
    // Not answering: what a read would get there is at least as old as the silence, and as its offset's lag now.
    this.silentSince ??= probe.sentAt;
    const byOffset = this.offset === undefined ? 0 : master.lagMs(this.offset, now);
    this.lag = Math.max(byOffset, now - this.silentSince);
    if (probe.kind === 'error') return false;
    return now - probe.sentAt >= probeTimeoutMs ? false : undefined;
  }
}

/** A replica as the master lists it (ROLE), with its lag by the offset it last acknowledged (once a second). */
export interface ListedReplica {
  node: string;
  lagMs: number;
}

/**
 * Which reader to send back through Sentinel, if any. A reader whose replica stopped answering is reconnected
 * (its socket times out) to another replica, and stays there: once the stopped one keeps up again, two readers
 * share one node while it gets none. The reader to move is the one whose preferred replica — reader `i` takes the
 * i-th of the healthy replicas sorted by address (connections.ts, replicaOptions) — is that idle replica.
 */
export function readerToMove(readerNodes: (string | undefined)[], listed: ListedReplica[], maxLagMs: number) {
  const healthy = listed
    .filter((r) => r.lagMs <= maxLagMs)
    .map((r) => r.node)
    .sort((a, b) => a.localeCompare(b));
  if (healthy.length < 2) return undefined;
  const idle = new Set(healthy.filter((node) => !readerNodes.includes(node)));
  const index = readerNodes.findIndex(
    (node, i) =>
      node !== undefined &&
      readerNodes.some((other, j) => j !== i && other === node) &&
      idle.has(healthy[i % healthy.length]!),
  );
  return index >= 0 ? index : undefined;
}
