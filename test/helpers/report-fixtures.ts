import type { BenchReport } from '../../ops/bench/bench.js';
import type { ScenarioResult } from '../../ops/bench/results.js';
import type { SecondOfLoad } from '../../ops/drill/cycle-series.js';
import type { CycleReport } from '../../ops/drill/cycle-stats.js';
import type { DrillReport } from '../../ops/drill/report.js';

/**
 * Reports shaped like real ones with figures chosen so that every mark on their pages can be counted: what a
 * page must show is known here exactly.
 */

const SENTINELS = [26379, 26380, 26381];
const MASTER = 'master evergreen 127.0.0.1 6379 @ evergreen 127.0.0.1 6379';

/** A failover cycle: 201s stop 0.4 s after the fault and come back 6.2 s after it, answers other than 201 between. */
function failoverCycle(cycle: number, withFence: boolean): CycleReport {
  const series = Array.from({ length: 16 }, (_, i): SecondOfLoad => {
    const s = i - 2;
    const down = s >= 0 && s <= 5;
    return {
      ms: s * 1000,
      acknowledged: down ? 0 : 40,
      reads: 20,
      failedReads: 0,
      answersByCode: down && withFence ? { '0 TIMEOUT': 2, '503 NOT_DURABLE': 5 } : {},
    };
  });
  const each = (ms: number, event: string, message: string) =>
    SENTINELS.map((sentinel, i) => ({ ms: ms + i * 10, sentinel, event, message }));
  return {
    cycle,
    fault: 'pause-master',
    pauseSeconds: 6,
    faultAt: 2000 + (cycle - 1) * 20_000,
    actions: [{ ms: 0, what: 'paused redis-6379' }],
    timeline: { sdown: 5000, odown: 5100, switchMaster: 5900, failoverEnd: 6500, firstAck: 6200 },
    newMasterPort: 6380,
    newMasterHost: '127.0.0.1',
    writeOutageMs: 5800,
    acknowledged: 420,
    lost: 0,
    duplicates: 0,
    retries: withFence ? 42 : 0,
    answersByCode: withFence ? { '0 TIMEOUT': 12, '503 NOT_DURABLE': 30 } : {},
    reads: 340,
    failedReads: 0,
    failedReadsByCode: {},
    healed: true,
    healMs: 9000,
    notes: ['a note with <markup> that must show as text'],
    events: [
      ...each(5000, '+sdown', MASTER),
      { ms: 5050, sentinel: 26379, event: '+sdown', message: 'slave 127.0.0.1:6381 127.0.0.1 6381 @ evergreen' },
      ...each(5100, '+odown', `${MASTER} #quorum 2/2`),
      ...each(5900, '+switch-master', 'evergreen 127.0.0.1 6379 127.0.0.1 6380'),
      ...each(6500, '+failover-end', MASTER),
    ],
    series,
    writeOutageWindow: { startMs: 400, endMs: 6200 },
    ...(withFence
      ? {
          fence: [
            { ms: 5200, api: 'api-3001', fenced: true },
            { ms: 5250, api: 'api-3002', fenced: true },
            { ms: 6000, api: 'api-3001', fenced: false },
            { ms: 6050, api: 'api-3002', fenced: false },
          ],
        }
      : {}),
  };
}

/** What the page of drillFixture() must show, mark by mark. */
export const DRILL_FIXTURE_MARKS = {
  cycles: 2,
  /** Per cycle: +sdown, +odown, +switch-master once each, and 4 fence changes in the first cycle only. */
  moments: [7, 3],
  /** Per cycle: 6 seconds × 2 codes in the first, none in the second. */
  answerBars: [12, 0],
  /** The load's three lines per cycle. */
  lines: 3,
  invariants: { pass: 4, fail: 1 },
};

export function drillFixture(): DrillReport {
  const invariant = (id: number, name: string, pass: boolean) => ({
    id,
    name,
    pass,
    counts: { checked: 1000, offending: pass ? 0 : 2 },
    examples: pass ? [] : ['watcher 3 missed <stock> of product p-1'],
  });
  return {
    fault: 'pause-master',
    startedAt: '2026-12-07T03:00:00.000Z',
    durationMs: 61_000,
    stack: {
      publicUrl: 'http://127.0.0.1:18080',
      apiRunner: 'dist',
      downAfterMs: 5000,
      failoverTimeoutMs: 10_000,
      dir: '/tmp/drill',
    },
    load: { clients: 8, products: 5, initialStock: 1_000_000, readsPerSecond: 20 },
    cycles: [failoverCycle(1, true), failoverCycle(2, false)],
    totals: {
      invoked: 900,
      acknowledged: 840,
      failed: 0,
      unknown: 0,
      resolvedLate: 3,
      retries: 42,
      baskets: 200,
      cancellations: { invoked: 160, acknowledged: 160, failed: 0, unknown: 0, resolvedLate: 0 },
      replayed: 840,
      reads: 680,
      failedReads: 0,
      lost: 0,
      duplicates: 0,
      longestWriteOutageMs: 5800,
    },
    invariants: [
      invariant(1, 'every acknowledged purchase is stored', true),
      invariant(2, 'stock never below zero', true),
      invariant(3, 'no key charged twice', true),
      invariant(4, 'replays return the same purchase', true),
      invariant(5, 'live stock watchers saw every change', false),
    ],
    passed: false,
    fencePolling: { intervalMs: 250, samples: 480, failures: 6 },
  };
}

function scenario(name: string, rps: number, ceiling?: string, ceilingRps?: number): ScenarioResult {
  return {
    name,
    what: name,
    ceiling,
    ratio: ceilingRps === undefined ? undefined : rps / ceilingRps,
    unexpected: 0,
    requests: rps * 10,
    seconds: 10,
    rps,
    p50Ms: 50_000 / rps,
    p99Ms: 150_000 / rps,
    maxMs: 300_000 / rps,
    errors: 0,
    statuses: { 200: rps * 10 },
    generatorCpuSeconds: 1,
  };
}

/** Two ceilings and three scenarios judged by the first. */
export const BENCH_FIXTURE_MARKS = {
  /** Each scenario's bar and its ceiling's, and each ceiling's own bar. */
  throughputBars: 3 * 2 + 2,
  /** p50 and p99 per scenario. */
  latencyBars: 5 * 2,
};

export function benchFixture(): BenchReport {
  return {
    machine: { cpus: 2, node: 'v20.20.2' },
    connections: 50,
    durationSeconds: 10,
    clientCache: 'on',
    results: [
      scenario('ceiling-http', 6000),
      scenario('ceiling-nginx', 14_000),
      scenario('catalog-get', 3600, 'ceiling-http', 6000),
      scenario('search', 2100, 'ceiling-http', 6000),
      scenario('purchase', 900, 'ceiling-http', 6000),
    ],
  };
}
