import { isIP } from 'node:net';
import type { CycleReport } from './cycle-stats.js';
import { renderFaultFigures, resourceLines, type FaultFigures } from './fault-summary.js';
import type { Recovery } from './faults.js';
import type { FencePolling } from './fence-recorder.js';
import type { Invariant } from './invariants.js';
import type { Load } from './load.js';

export interface DrillTotals {
  invoked: number;
  acknowledged: number;
  failed: number;
  unknown: number;
  /** Unknown when the load stopped, settled by the retries after the last cycle. */
  resolvedLate: number;
  retries: number;
  /** Purchases sent as baskets of 2–3 products. */
  baskets: number;
  /** Cancellations of acknowledged purchases, retried like purchases. */
  cancellations: { invoked: number; acknowledged: number; failed: number; unknown: number; resolvedLate: number };
  /** Acknowledged keys sent once more at the end to check that a replay returns the same purchase. */
  replayed: number;
  reads: number;
  failedReads: number;
  lost: number;
  duplicates: number;
  longestWriteOutageMs: number;
}

export interface DrillReport {
  /** The fault, or the sequence of faults ("kill-master,restart-stack"). */
  fault: string;
  startedAt: string;
  durationMs: number;
  stack: { publicUrl: string; apiRunner: string; downAfterMs: number; failoverTimeoutMs: number; dir: string };
  load: { clients: number; products: number; initialStock: number; readsPerSecond: number };
  cycles: CycleReport[];
  /** Each fault's figures over its cycles (min / median / max): what a soak says. Absent in older reports. */
  byFault?: FaultFigures[];
  totals: DrillTotals;
  invariants: Invariant[];
  passed: boolean;
  /** How often each API instance's fence gauge was read for the cycles' fence lines, and how many reads failed. */
  fencePolling?: FencePolling;
}

/** The whole drill's figures; lost and duplicates as invariants 1 and 3 counted them. */
export function drillTotals(
  load: Load,
  invariants: Invariant[],
  cycles: CycleReport[],
  counted: { retries: number; replayed: number },
): DrillTotals {
  const counts = load.counts();
  return {
    invoked: load.ops.length,
    acknowledged: counts.ok,
    failed: counts.failed,
    unknown: counts.unknown,
    resolvedLate: load.ops.filter((op) => op.resolvedLate).length,
    ...counted,
    baskets: counts.baskets,
    cancellations: {
      invoked: load.ops.filter((op) => op.cancel).length,
      acknowledged: counts.cancellations.ok,
      failed: counts.cancellations.failed,
      unknown: counts.cancellations.unknown,
      resolvedLate: load.ops.filter((op) => op.cancel?.resolvedLate).length,
    },
    reads: counts.reads,
    failedReads: counts.failedReads,
    lost: invariants.find((i) => i.id === 1)?.counts.lost ?? 0,
    duplicates: invariants.find((i) => i.id === 3)?.counts.keysWithTwoPurchases ?? 0,
    longestWriteOutageMs: Math.max(0, ...cycles.map((c) => c.writeOutageMs)),
  };
}

const s = (ms: number | undefined) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
const counted = (byCode: Record<string, number>) =>
  Object.entries(byCode)
    .map(([code, n]) => `${code} ×${n}`)
    .join(', ');
// "redis-6380: 0.61 s / 0.70 s", "stack: – / 14.20 s"; NOT BACK when it was not ready within the fault's bound.
const recovered = (r: Recovery | undefined) =>
  r === undefined ? '–' : `${r.process}: ${s(r.pidMs)} / ${r.readyMs === undefined ? 'NOT BACK' : s(r.readyMs)}`;
// ":6380" locally (every node on one address), "redis-2" in Compose (every node on port 6379).
const newMaster = (c: CycleReport) =>
  c.newMasterHost === undefined || isIP(c.newMasterHost) ? `:${c.newMasterPort}` : c.newMasterHost;
const row = (cells: unknown[]) => `| ${cells.join(' | ')} |`;
const entries = (record: Record<string, number>) =>
  Object.entries(record)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** The report as markdown: per-cycle table, invariants, totals. */
export function renderMarkdown(report: DrillReport): string {
  const { stack, load, totals } = report;
  const cancels = totals.cancellations;
  const lines = [
    `# Evergreen drill: ${report.fault}, ${report.cycles.length} cycle(s) — ${verdict(report.passed)}`,
    '',
    `${report.startedAt}, ${s(report.durationMs)}. Stack ${stack.publicUrl} (${stack.apiRunner}), ` +
      `Sentinel down-after ${stack.downAfterMs} ms, failover-timeout ${stack.failoverTimeoutMs} ms. ` +
      `Load: ${load.clients} buyers, ${load.products} products × ${load.initialStock} units, ` +
      `${load.readsPerSecond} catalog reads/s.`,
    '',
    '## Cycles (times after the fault)',
    '',
    '| # | fault | pause | +sdown | +odown | +switch-master | back: new pid / ready | first 201 | write outage ' +
      '| 201s | lost | two purchases | retries | failed reads | other answers | healed |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...report.cycles.map((c) =>
      row([
        c.cycle,
        c.fault,
        c.pauseSeconds === undefined ? '–' : `${c.pauseSeconds} s`,
        s(c.timeline.sdown),
        s(c.timeline.odown),
        c.timeline.switchMaster === undefined ? '–' : `${s(c.timeline.switchMaster)} → ${newMaster(c)}`,
        recovered(c.recovery),
        s(c.timeline.firstAck),
        s(c.writeOutageMs),
        c.acknowledged,
        c.lost,
        c.duplicates,
        c.retries,
        `${c.failedReads}/${c.reads}${c.failedReads > 0 ? ` (${counted(c.failedReadsByCode)})` : ''}`,
        counted(c.answersByCode) || '–',
        c.healed ? `yes (${s(c.healMs)})` : 'NO',
      ]),
    ),
    '',
    ...report.cycles.map((c) => `- cycle ${c.cycle}: ${c.actions.map((a) => `${s(a.ms)} ${a.what}`).join('; ')}`),
    ...resourceLines(report.cycles),
    ...report.cycles.flatMap((c) => c.notes.map((note) => `- cycle ${c.cycle}: ${note}`)),
    '',
    '## Per fault (over its cycles)',
    '',
    ...renderFaultFigures(report.byFault ?? []),
    '',
    '## Invariants',
    '',
    '| # | invariant | result | counts |',
    '|---|---|---|---|',
    ...report.invariants.map((i) => `| ${i.id} | ${i.name} | ${verdict(i.pass)} | ${entries(i.counts)} |`),
    ...report.invariants.flatMap((i) => i.examples.map((e) => `- ${i.id}: ${e}`)),
    '',
    '## Totals',
    '',
    `- purchases: ${totals.invoked} invoked, ${totals.acknowledged} acknowledged, ${totals.failed} failed, ` +
      `${totals.unknown} unknown (${totals.resolvedLate} more settled after the last cycle), ` +
      `${totals.retries} retries; ${totals.baskets} baskets`,
    `- cancellations: ${cancels.invoked} invoked, ${cancels.acknowledged} acknowledged, ${cancels.failed} failed, ` +
      `${cancels.unknown} unknown (${cancels.resolvedLate} more settled after the last cycle)`,
    `- acknowledged purchases lost: ${totals.lost}; keys with two purchases: ${totals.duplicates} ` +
      `(${totals.replayed} acknowledged keys replayed at the end)`,
    `- catalog reads: ${totals.reads}, failed ${totals.failedReads}`,
    `- longest write outage: ${s(totals.longestWriteOutageMs)}`,
    '',
  ];
  return lines.join('\n');
}
