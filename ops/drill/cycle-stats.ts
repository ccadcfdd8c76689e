import { cycleSeries, type SecondOfLoad } from './cycle-series.js';
import type { Observed } from './fault-run.js';
import type { FaultRun, Recovery } from './faults.js';
import type { FenceChange } from './fence-recorder.js';
import type { HealResult } from './heal.js';
import { isLost, purchaseIdsOf } from './invariants.js';
import { failedRead, type Read } from './load.js';
import type { ConcreteFault } from './options.js';
import type { PurchaseOp } from './purchase-op.js';
import { switchedTo, switchedToHost, type SentinelEvents } from './sentinel-events.js';
import type { StoreSnapshot } from './store-snapshot.js';

/** What the engine remembers of one cycle while it runs. */
export interface CycleRecord {
  run: FaultRun;
  pauseMs: number;
  /** The cycle's window: from just before the fault to the end of its heal and steady load. */
  startAt: number;
  endAt: number;
  heal: HealResult;
}

/** Milliseconds after the fault (undefined: it did not happen in the cycle). */
export interface Timeline {
  sdown?: number;
  odown?: number;
  switchMaster?: number;
  failoverEnd?: number;
  /** The first 201 to an attempt sent after the fault. */
  firstAck?: number;
}

export interface CycleReport {
  cycle: number;
  fault: ConcreteFault;
  pauseSeconds?: number;
  /** Milliseconds since the drill started. */
  faultAt: number;
  actions: { ms: number; what: string }[];
  timeline: Timeline;
  newMasterPort?: number;
  /** As the Sentinels announce it: an address locally, a service name (redis-2) in Compose. */
  newMasterHost?: string;
  /** The longest time without a 201, from the last one before the fault to the end of the cycle. */
  writeOutageMs: number;
  acknowledged: number;
  /** Acknowledged in this cycle, gone at the end. */
  lost: number;
  /** Keys first acknowledged in this cycle whose 201s named two purchases. */
  duplicates: number;
  retries: number;
  /** Every answer other than 201 in the cycle, by "status code" (status 0: no answer). */
  answersByCode: Record<string, number>;
  reads: number;
  failedReads: number;
  /** The failed reads by "status code". */
  failedReadsByCode: Record<string, number>;
  /** A crashed or restarted process's (or the whole stack's) way back, when the fault takes one down. */
  recovery?: Recovery;
  /** A resource fault's observations; ms after the fault unless said otherwise. */
  resource?: ResourceReport;
  healed: boolean;
  healMs: number;
  notes: string[];
  events: { ms: number; sentinel: number; event: string; message: string }[];
  /** The load second by second, from 2 s before the fault (LEAD_MS) (ms: the second's start after the fault). */
  series?: SecondOfLoad[];
  /** Where writeOutageMs lies, in ms after the fault (start: the last 201 before the gap). */
  writeOutageWindow?: { startMs: number; endMs: number };
  /** Each API instance's failover fence going up and down in the cycle (ms after the fault), from its /metrics. */
  fence?: { ms: number; api: string; fenced: boolean }[];
}

export interface ResourceReport extends Omit<Observed, 'restoredAt'> {
  /** When the resource came back. */
  restoredMs: number;
  /** The first 201 after that, ms after it: what a client saw of the way back (retry-after included). */
  firstAckAfterMs?: number;
  /** The slowest catalog read that started while the resource was short. */
  slowestReadMs: number;
}

const PAUSES: ConcreteFault[] = ['pause-master', 'pause-replicas', 'pause-sentinel-and-master'];

export function cycleReport(
  index: number,
  record: CycleRecord,
  drillStart: number,
  data: {
    ops: PurchaseOp[];
    reads: Read[];
    events: SentinelEvents;
    snapshot: StoreSnapshot;
    fence?: { between(from: number, to: number): FenceChange[] };
  },
): CycleReport {
  const { run, startAt, endAt } = record;
  const faultAt = run.faultAt || startAt;
  const inCycle = (t: number) => t >= startAt && t < endAt;
  const attempts = data.ops
    .flatMap((op) => op.attempts.map((a, i) => ({ ...a, retry: i > 0 })))
    .filter((a) => inCycle(a.endedAt));
  const acks = data.ops
    .flatMap((op) => op.attempts.filter((a) => a.status === 201).map((a) => a.endedAt))
    .sort((a, b) => a - b);
  const after = (event: string) => relative(data.events.firstAbout(event, faultAt, endAt)?.at, faultAt);
  const firstAck = attempts
    .filter((a) => a.status === 201 && a.startedAt >= faultAt)
    .reduce<number | undefined>((first, a) => Math.min(first ?? a.endedAt, a.endedAt), undefined);
  const answersByCode = byCode(attempts.filter((a) => a.status !== 201));
  const reads = data.reads.filter((r) => inCycle(r.endedAt));
  const acknowledgedHere = data.ops.filter((op) => {
    const first = op.attempts.find((a) => a.status === 201);
    return first !== undefined && inCycle(first.endedAt);
  });
  const outage = longestGapWindow(acks, faultAt, startAt, endAt);
  return {
    cycle: index + 1,
    fault: run.fault,
    ...(PAUSES.includes(run.fault) ? { pauseSeconds: record.pauseMs / 1000 } : {}),
    faultAt: faultAt - drillStart,
    actions: run.actions.map((a) => ({ ms: a.at - faultAt, what: a.what })),
    timeline: {
      sdown: after('+sdown'),
      odown: after('+odown'),
      switchMaster: after('+switch-master'),
      failoverEnd: after('+failover-end'),
      firstAck: relative(firstAck, faultAt),
    },
    newMasterPort: switchedTo(data.events.firstAbout('+switch-master', faultAt, endAt)),
    newMasterHost: switchedToHost(data.events.firstAbout('+switch-master', faultAt, endAt)),
    writeOutageMs: outage.end - outage.start,
    acknowledged: attempts.filter((a) => a.status === 201).length,
    lost: acknowledgedHere.filter((op) => isLost(op, data.snapshot)).length,
    duplicates: acknowledgedHere.filter((op) => purchaseIdsOf(op).size > 1).length,
    retries: attempts.filter((a) => a.retry).length,
    answersByCode,
    reads: reads.length,
    failedReads: reads.filter(failedRead).length,
    failedReadsByCode: byCode(reads.filter(failedRead)),
    ...(run.recovery ? { recovery: { ...run.recovery } } : {}),
    ...(run.observed ? { resource: resourceReport(run.observed, faultAt, acks, reads) } : {}),
    healed: record.heal.healed,
    healMs: record.heal.healMs,
    notes: [...run.notes, ...record.heal.problems],
    events: data.events.between(faultAt, endAt).map(({ at, ...e }) => ({ ms: at - faultAt, ...e })),
    series: cycleSeries({ faultAt, endAt }, data.ops, data.reads),
    writeOutageWindow: { startMs: outage.start - faultAt, endMs: outage.end - faultAt },
    ...(data.fence
      ? { fence: data.fence.between(startAt, endAt).map(({ at, ...c }) => ({ ms: at - faultAt, ...c })) }
      : {}),
  };
}

function resourceReport(observed: Observed, faultAt: number, acks: number[], reads: Read[]): ResourceReport {
  const { restoredAt, ...seen } = observed;
  const firstAck = acks.find((t) => t >= restoredAt);
  const whileShort = reads.filter((r) => r.startedAt >= faultAt && r.startedAt < restoredAt);
  return {
    ...seen,
    restoredMs: restoredAt - faultAt,
    ...(firstAck !== undefined ? { firstAckAfterMs: firstAck - restoredAt } : {}),
    slowestReadMs: Math.max(0, ...whileShort.map((r) => r.endedAt - r.startedAt)),
  };
}

/** Longest gap between acknowledgements from the last one before the fault until the window ends. */
export function longestGap(acks: number[], faultAt: number, startAt: number, endAt: number): number {
  const { start, end } = longestGapWindow(acks, faultAt, startAt, endAt);
  return end - start;
}

/** The longest gap's two ends: the 201 before it (or the window's start) and the one that ended it (or its end). */
export function longestGapWindow(
  acks: number[],
  faultAt: number,
  startAt: number,
  endAt: number,
): { start: number; end: number } {
  let previous = acks.filter((t) => t < faultAt).at(-1) ?? startAt;
  let longest = { start: previous, end: previous };
  for (const t of [...acks.filter((t) => t >= faultAt && t < endAt), endAt]) {
    if (t - previous > longest.end - longest.start) longest = { start: previous, end: t };
    previous = t;
  }
  return longest;
}

function byCode(answers: { status: number; code: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status, code } of answers) counts[`${status} ${code}`] = (counts[`${status} ${code}`] ?? 0) + 1;
  return counts;
}

const relative = (at: number | undefined, from: number) => (at === undefined ? undefined : at - from);
