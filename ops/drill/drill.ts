import { setTimeout as sleep } from 'node:timers/promises';
import { LocalStack } from '../../stack/stack.js';
import type { Deployment } from '../deployment/deployment.js';
import { LocalDeployment } from '../deployment/local.js';
import { cycleReport, type CycleRecord } from './cycle-stats.js';
import { injectFault, refusedFaults } from './faults.js';
import { FenceRecorder } from './fence-recorder.js';
import { checkInvariants } from './final-check.js';
import { heal } from './heal.js';
import { Load } from './load.js';
import { DrillWatchers } from './live-watchers.js';
import { cyclePlan, faultLabel, faultSequence, type DrillOptions } from './options.js';
import { Progress } from './progress.js';
import { drillTotals, type DrillReport } from './report.js';
import { SentinelEvents } from './sentinel-events.js';
import { faultFigures } from './fault-summary.js';
import { resourceInvariant } from './resource-checks.js';
import { prepareDrill } from './setup.js';

// Acknowledged keys sent again at the end: the ones that crossed a fault, then those nearest one.
const REPLAYS = 1000;

/**
 * The drill engine: on a started deployment (a LocalStack: the local one, without restart-stack), a steady
 * keyed-purchase and catalog load through its public URL, then per cycle a fault, a heal and some steady load,
 * then unknown outcomes resolved with their own keys, replays, and the invariants checked. Returns the report;
 * throws only when the drill itself cannot run, or the deployment cannot inject one of the faults.
 */
export async function runDrill(
  options: DrillOptions,
  stackOrDeployment: LocalStack | Deployment,
  log: (line: string) => void,
): Promise<DrillReport> {
  const deployment =
    stackOrDeployment instanceof LocalStack ? new LocalDeployment(stackOrDeployment) : stackOrDeployment;
  const refused = refusedFaults(deployment, faultSequence(options));
  if (refused.length > 0) throw new Error(`cannot drill this deployment: ${refused.join('; ')}`);
  const startedAt = Date.now();
  const { failoverTimeoutMs, downAfterMs } = deployment;
  const plan = cyclePlan(options, downAfterMs);
  const setup = await prepareDrill(deployment.publicUrl, deployment.admin, options);
  const events = await SentinelEvents.open(await deployment.sentinels(), deployment.sentinelAuth.password);
  // The same public URL whichever stack serves: restart-stack keeps its config.
  const load = new Load(deployment.publicUrl, setup, options);
  // Attached before the load, resuming across every fault: invariant 5 judges what they got.
  const watchers = new DrillWatchers(
    deployment.publicUrl,
    setup.products.map((p) => p.id),
  );
  const fence = new FenceRecorder(deployment);
  const progress = new Progress(plan.length, () => load.counts(), log);
  const step = (what: string) => progress.step(what);
  const context = { deployment, events, failoverTimeoutMs, step };
  const records: CycleRecord[] = [];
  try {
    await watchers.opened();
    load.start();
    fence.start();
    progress.start();
    progress.at(0, 'steady load');
    await sleep(options.steadyMs);
    for (const [cycle, { fault, pauseMs }] of plan.entries()) {
      progress.at(cycle + 1, fault);
      const startAt = Date.now();
      const failoverWaitMs = downAfterMs + failoverTimeoutMs + 10_000;
      const run = await injectFault(fault, { ...context, cycle, pauseMs, failoverWaitMs });
      const healed = await heal({ ...context, timeoutMs: options.healTimeoutMs }, startAt);
      progress.step('steady load');
      await sleep(options.steadyMs);
      records.push({ run, pauseMs, startAt, endAt: Date.now(), heal: healed });
    }
    progress.step('stopping the load');
    await load.stop();
    const { unknown, cancellations } = load.counts();
    progress.step(`resolving ${unknown} unknown purchases with their own keys, ${cancellations.unknown} cancellations`);
    await load.resolveUnknown(options.resolveTimeoutMs);
    const retries = load.ops.reduce((n, op) => n + op.attempts.length - 1, 0);
    progress.step('replaying acknowledged keys');
    const faultTimes = records.map((r) => r.run.faultAt);
    const replayed = await load.replayAcknowledged(REPLAYS, options.resolveTimeoutMs, (op) => {
      const ackedAt = op.attempts.at(-1)?.endedAt ?? 0;
      return op.attempts.length > 1 ? -1 : Math.min(...faultTimes.map((t) => Math.abs(ackedAt - t)));
    });
    progress.step('checking the invariants');
    const { invariants, snapshot } = await checkInvariants(deployment, setup, load.ops, watchers);
    await fence.stop();
    const history = { ops: load.ops, reads: load.reads, events, snapshot, fence };
    const cycles = records.map((record, i) => cycleReport(i, record, startedAt, history));
    const resources = resourceInvariant(cycles);
    if (resources) invariants.push(resources);
    const { apiRunner, where: dir, publicUrl } = deployment;
    const { clients, products, initialStock, readsPerSecond } = options;
    return {
      fault: faultLabel(options),
      startedAt: new Date(startedAt).toISOString(),
      durationMs: Date.now() - startedAt,
      stack: { publicUrl, apiRunner, downAfterMs, failoverTimeoutMs, dir },
      load: { clients, products, initialStock, readsPerSecond },
      cycles,
      byFault: faultFigures(cycles),
      totals: drillTotals(load, invariants, cycles, { retries, replayed }),
      invariants,
      passed: invariants.every((i) => i.pass),
      fencePolling: fence.stats,
    };
  } finally {
    progress.stop();
    await load.stop();
    await fence.stop();
    await watchers.stop();
    events.close();
  }
}
