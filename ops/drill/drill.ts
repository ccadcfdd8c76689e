import { setTimeout as sleep } from 'node:timers/promises';
import { LocalStack } from '../../stack/stack.js';
import { cycleReport, type CycleRecord } from './cycle-stats.js';
import { DrillStack } from './drill-stack.js';
import { injectFault } from './faults.js';
import { checkInvariants } from './final-check.js';
import { heal } from './heal.js';
import { Load } from './load.js';
import { cyclePlan, faultLabel, faultSequence, type DrillOptions } from './options.js';
import { Progress } from './progress.js';
import { drillTotals, type DrillReport } from './report.js';
import { SentinelEvents } from './sentinel-events.js';
import { prepareDrill } from './setup.js';

// Acknowledged keys sent again at the end: the ones that crossed a fault, then those nearest one.
const REPLAYS = 1000;

/**
 * The drill engine: on a started LocalStack, a steady keyed-purchase and catalog load through NGINX, then per
 * cycle a fault, a heal and some steady load, then unknown outcomes resolved with their own keys, replays, and
 * the invariants checked. Returns the report; throws only when the drill itself cannot run. restart-stack
 * needs a DrillStack (it starts a new LocalStack): stop target.current, or the DrillStack, afterwards.
 */
export async function runDrill(
  options: DrillOptions,
  stackOrTarget: LocalStack | DrillStack,
  log: (line: string) => void,
): Promise<DrillReport> {
  const target = stackOrTarget instanceof LocalStack ? new DrillStack(stackOrTarget) : stackOrTarget;
  const first = target.current;
  if (!first.topology) throw new Error('runDrill needs a started stack');
  if (faultSequence(options).includes('restart-stack') && !target.canRestart) {
    throw new Error('restart-stack needs a DrillStack, with the options to start the stack again');
  }
  const startedAt = Date.now();
  const { failoverTimeoutMs, downAfterMs } = first.config;
  const plan = cyclePlan(options, downAfterMs);
  const setup = await prepareDrill(first.publicUrl, first.credentials.admin, options);
  const events = await SentinelEvents.open(first.topology.sentinels, first.credentials.redis.sentinels);
  // The same ports whichever stack serves: restart-stack keeps its config.
  const load = new Load(first.publicUrl, setup, options);
  const progress = new Progress(plan.length, () => load.counts(), log);
  const step = (what: string) => progress.step(what);
  // Read at each use: restart-stack replaces the stack.
  const current = () => {
    const { topology } = target.current;
    if (!topology) throw new Error('the stack is down: it could not be started again');
    return { stack: target.current, topology, target, events, failoverTimeoutMs, step };
  };
  const records: CycleRecord[] = [];
  try {
    load.start();
    progress.start();
    progress.at(0, 'steady load');
    await sleep(options.steadyMs);
    for (const [cycle, { fault, pauseMs }] of plan.entries()) {
      progress.at(cycle + 1, fault);
      const startAt = Date.now();
      const failoverWaitMs = downAfterMs + failoverTimeoutMs + 10_000;
      const run = await injectFault(fault, { ...current(), cycle, pauseMs, failoverWaitMs });
      const healed = await heal({ ...current(), timeoutMs: options.healTimeoutMs }, startAt);
      progress.step('steady load');
      await sleep(options.steadyMs);
      records.push({ run, pauseMs, startAt, endAt: Date.now(), heal: healed });
    }
    progress.step('stopping the load');
    await load.stop();
    progress.step(`resolving ${load.counts().unknown} unknown outcomes with their own keys`);
    await load.resolveUnknown(options.resolveTimeoutMs);
    const retries = load.ops.reduce((n, op) => n + op.attempts.length - 1, 0);
    progress.step('replaying acknowledged keys');
    const faultTimes = records.map((r) => r.run.faultAt);
    const replayed = await load.replayAcknowledged(REPLAYS, options.resolveTimeoutMs, (op) => {
      const ackedAt = op.attempts.at(-1)?.endedAt ?? 0;
      return op.attempts.length > 1 ? -1 : Math.min(...faultTimes.map((t) => Math.abs(ackedAt - t)));
    });
    progress.step('checking the invariants');
    const { invariants, snapshot } = await checkInvariants(target.current, setup, load.ops);
    const history = { ops: load.ops, reads: load.reads, events, snapshot };
    const cycles = records.map((record, i) => cycleReport(i, record, startedAt, history));
    const { apiRunner, dir } = first.config;
    const { clients, products, initialStock, readsPerSecond } = options;
    return {
      fault: faultLabel(options),
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Date.now() - startedAt,
      stack: { publicUrl: first.publicUrl, apiRunner, downAfterMs, failoverTimeoutMs, dir },
      load: { clients, products, initialStock, readsPerSecond },
      cycles,
      totals: drillTotals(load, invariants, cycles, { retries, replayed }),
      invariants,
      passed: invariants.every((i) => i.pass),
    };
  } finally {
    progress.stop();
    await load.stop();
    events.close();
  }
}
