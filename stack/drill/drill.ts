import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalStack } from '../stack.js';
import { cycleReport, type CycleRecord } from './cycle-stats.js';
import { injectFault } from './faults.js';
import { checkInvariants } from './final-check.js';
import { heal } from './heal.js';
import { Load } from './load.js';
import { cyclePauses, type DrillOptions } from './options.js';
import { Progress } from './progress.js';
import { drillTotals, type DrillReport } from './report.js';
import { SentinelEvents } from './sentinel-events.js';
import { prepareDrill } from './setup.js';

// Acknowledged keys sent again at the end: the ones that crossed a fault, then those nearest one.
const REPLAYS = 1000;

/**
 * The drill engine: on a started LocalStack, a steady keyed-purchase and catalog load through NGINX, then per
 * cycle a fault, a heal and some steady load, then unknown outcomes resolved with their own keys, replays, and
 * the invariants checked. Returns the report; throws only when the drill itself cannot run.
 */
export async function runDrill(
  options: DrillOptions,
  stack: LocalStack,
  log: (line: string) => void,
): Promise<DrillReport> {
  const { topology } = stack;
  if (!topology) throw new Error('runDrill needs a started stack');
  const startedAt = Date.now();
  const { failoverTimeoutMs } = stack.config;
  const pauses = cyclePauses(options, stack.config.downAfterMs);
  const setup = await prepareDrill(stack.publicUrl, stack.credentials.admin, options);
  const events = await SentinelEvents.open(topology.sentinels, stack.credentials.redis.sentinels);
  const load = new Load(stack.publicUrl, setup, options);
  const progress = new Progress(pauses.length, () => load.counts(), log);
  const context = { stack, topology, events, failoverTimeoutMs, step: (what: string) => progress.step(what) };
  const records: CycleRecord[] = [];
  try {
    load.start();
    progress.start();
    progress.at(0, 'steady load');
    await sleep(options.steadyMs);
    for (const [cycle, pauseMs] of pauses.entries()) {
      progress.at(cycle + 1, options.fault);
      const startAt = Date.now();
      const failoverWaitMs = stack.config.downAfterMs + failoverTimeoutMs + 10_000;
      const run = await injectFault(options.fault, { ...context, cycle, pauseMs, failoverWaitMs });
      const healed = await heal({ ...context, timeoutMs: options.healTimeoutMs }, startAt);
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
    const { invariants, snapshot } = await checkInvariants(stack, setup, load.ops);
    const history = { ops: load.ops, reads: load.reads, events, snapshot };
    const cycles = records.map((record, i) => cycleReport(i, record, startedAt, history));
    const { downAfterMs, apiRunner, dir } = stack.config;
    const { clients, products, initialStock, readsPerSecond } = options;
    return {
      fault: options.fault,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Date.now() - startedAt,
      stack: { publicUrl: stack.publicUrl, apiRunner, downAfterMs, failoverTimeoutMs, dir },
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
