import type { CycleReport } from './cycle-stats.js';

/** Min, median and max of a figure over the cycles that have it (undefined: none has). */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

/** One fault's figures over every cycle that injected it: what a soak says of it. */
export interface FaultFigures {
  fault: string;
  cycles: number;
  writeOutageMs: Spread;
  /** Answers that left a purchase's fate unknown when they came: no answer, or a 5xx other than a refusal. */
  unknownAnswers: Spread;
  failedReads: number;
  reads: number;
  lost: number;
  /** Resource faults: until the master took writes after the resource came back. */
  writableMs?: Spread;
  /** Resource faults: the cycles whose expected alert fired, of those with a Prometheus to ask. */
  alerted?: { fired: number; of: number };
  /** slow-replica: until every instance called the replica lagging, and its share of the replicas' reads. */
  excludedMs?: Spread;
  slowReplicaShare?: Spread;
}

/** A 503 that says nothing was written: the master refused the write whole (a full memory or disk). */
const REFUSALS = ['503 STORE_FULL', '503 STORE_NOT_PERSISTING'];

const unknownAnswers = (c: CycleReport) =>
  Object.entries(c.answersByCode)
    .filter(([key]) => (key.startsWith('0 ') || key.startsWith('5')) && !REFUSALS.includes(key))
    .reduce((n, [, count]) => n + count, 0);

/** Per fault, in the order the faults first ran. */
export function faultFigures(cycles: CycleReport[]): FaultFigures[] {
  const faults = [...new Set(cycles.map((c) => c.fault))];
  return faults.map((fault) => {
    const of = cycles.filter((c) => c.fault === fault);
    const resources = of.flatMap((c) => (c.resource ? [c.resource] : []));
    const withAlert = resources.filter((r) => r.expectedAlert !== undefined);
    const routing = resources.flatMap((r) => (r.replica ? [r.replica] : []));
    return {
      fault,
      cycles: of.length,
      writeOutageMs: spread(of.map((c) => c.writeOutageMs))!,
      unknownAnswers: spread(of.map(unknownAnswers))!,
      failedReads: sum(of.map((c) => c.failedReads)),
      reads: sum(of.map((c) => c.reads)),
      lost: sum(of.map((c) => c.lost)),
      ...optional('writableMs', spread(resources.flatMap((r) => (r.writableMs === undefined ? [] : [r.writableMs])))),
      ...(withAlert.length > 0
        ? {
            alerted: {
              fired: withAlert.filter((r) => r.alerts[r.expectedAlert!] !== undefined).length,
              of: withAlert.length,
            },
          }
        : {}),
      ...optional('excludedMs', spread(routing.flatMap((r) => (r.excludedMs === undefined ? [] : [r.excludedMs])))),
      ...optional(
        'slowReplicaShare',
        spread(routing.filter((r) => r.servedByReplicas > 0).map((r) => r.servedByIt / r.servedByReplicas)),
      ),
    };
  });
}

/** The figures as a Markdown table, for the report. */
export function renderFaultFigures(figures: FaultFigures[]): string[] {
  const ms = (x: Spread | undefined) => (x === undefined ? '–' : `${secs(x.min)} / ${secs(x.median)} / ${secs(x.max)}`);
  const extra = (f: FaultFigures) =>
    [
      f.writableMs && `writes back ${ms(f.writableMs)} after the resource`,
      f.alerted && `alert fired in ${f.alerted.fired} of ${f.alerted.of}`,
      f.excludedMs && `called lagging after ${ms(f.excludedMs)}`,
      f.slowReplicaShare && `its share of replica reads ≤ ${(f.slowReplicaShare.max * 100).toFixed(1)}%`,
    ]
      .filter(Boolean)
      .join('; ') || '–';
  return [
    '| fault | cycles | write outage min / median / max | unknown answers min / median / max | failed reads ' +
      '| lost | also |',
    '|---|---|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.fault} | ${f.cycles} | ${ms(f.writeOutageMs)} | ` +
        `${f.unknownAnswers.min} / ${f.unknownAnswers.median} / ${f.unknownAnswers.max} | ` +
        `${f.failedReads}/${f.reads} | ${f.lost} | ${extra(f)} |`,
    ),
  ];
}

/** What each resource fault saw, one line per cycle. */
export function resourceLines(cycles: CycleReport[]): string[] {
  return cycles.flatMap(({ cycle, resource: r }) => {
    if (!r) return [];
    const alerts = Object.entries(r.alerts).map(([name, at]) => `${name} at ${secs(at)}`);
    const routing = r.replica;
    const seen = [
      `resource back at ${secs(r.restoredMs)}`,
      r.writableMs !== undefined && `the master took writes ${secs(r.writableMs)} later`,
      r.firstAckAfterMs !== undefined && `first 201 ${secs(r.firstAckAfterMs)} later`,
      r.expectedAlert !== undefined && `alerts firing: ${alerts.join(', ') || 'none'}`,
      routing &&
        `${routing.label}: lag up to ${secs(routing.maxLagMs)}, called lagging by every instance ` +
          `${routing.excludedMs === undefined ? 'NEVER' : `at ${secs(routing.excludedMs)}`}, served ` +
          `${routing.servedByIt} of the replicas' ${routing.servedByReplicas} reads meanwhile, back in rotation ` +
          `${routing.readmittedMs === undefined ? '(not seen)' : `${secs(routing.readmittedMs)} after the throttle`}`,
      `slowest read while short ${secs(r.slowestReadMs)}`,
    ].filter(Boolean);
    return [`- cycle ${cycle}: ${seen.join('; ')}`];
  });
}

export function spread(values: number[]): Spread | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted.at(-1)! };
}

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
