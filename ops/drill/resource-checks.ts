import type { CycleReport } from './cycle-stats.js';
import { invariant, type Invariant } from './invariants.js';
import { RESOURCE_FAULT_NAMES } from './options.js';

/** The code a purchase meets while the master's disk or memory is full. */
const REFUSAL_CODE: Record<string, string> = {
  'disk-full': 'STORE_NOT_PERSISTING',
  'memory-full': 'STORE_FULL',
};
/**
 * slow-replica: the most of the replicas' reads the throttled one may serve while it lags — those before the
 * instances noticed (half of them would be its, without the check).
 */
export const MAX_SHARE_OF_SLOW_REPLICA = 0.1;

/**
 * Invariant 6, when the drill ran a resource fault: each behaved as promised. disk-full and memory-full — purchases
 * refused with their own 503 code and no 500, every catalog read answered, the alert fired (where the deployment
 * runs a Prometheus), writes back by themselves once the resource was; slow-replica — the instances called it
 * lagging, it served at most MAX_SHARE_OF_SLOW_REPLICA of the replicas' reads, purchases acknowledged with no
 * NOT_DURABLE (WAIT counted the good one), every read answered.
 */
export function resourceInvariant(cycles: CycleReport[]): Invariant | undefined {
  const checked = cycles.filter((c) => RESOURCE_FAULT_NAMES.includes(c.fault));
  if (checked.length === 0) return undefined;
  const failures = checked.map((cycle) => problemsOf(cycle).map((p) => `cycle ${cycle.cycle} (${cycle.fault}): ${p}`));
  return invariant(
    6,
    'resource faults: refused clearly, reads kept, alerted, back by themselves',
    { cycles: checked.length, failed: failures.filter((f) => f.length > 0).length },
    failures,
  );
}

export function problemsOf(cycle: CycleReport): string[] {
  const { resource } = cycle;
  if (!resource) return ['the fault observed nothing (it could not be completed)'];
  const problems: string[] = [];
  if (cycle.failedReads > 0) problems.push(`${cycle.failedReads} catalog reads failed`);
  const errors500 = Object.entries(cycle.answersByCode).filter(([code]) => code.startsWith('500 '));
  if (errors500.length > 0) problems.push(`answered ${errors500.map(([c, n]) => `${n}× ${c}`).join(', ')}`);
  const code = REFUSAL_CODE[cycle.fault];
  if (code !== undefined) {
    if (!cycle.answersByCode[`503 ${code}`]) problems.push(`no purchase was refused with 503 ${code}`);
    if (resource.writableMs === undefined) problems.push('the master did not take writes again');
    if (resource.expectedAlert !== undefined && resource.alerts[resource.expectedAlert] === undefined) {
      problems.push(`${resource.expectedAlert} did not fire`);
    }
  } else {
    const routing = resource.replica;
    if (!routing || routing.excludedMs === undefined) problems.push('the instances never called the replica lagging');
    else if (routing.servedByIt > MAX_SHARE_OF_SLOW_REPLICA * routing.servedByReplicas) {
      problems.push(`it served ${routing.servedByIt} of the replicas' ${routing.servedByReplicas} reads`);
    }
    if (cycle.acknowledged === 0) problems.push('no purchase was acknowledged while it lagged');
    if (cycle.answersByCode['503 NOT_DURABLE']) problems.push(`${cycle.answersByCode['503 NOT_DURABLE']}× NOT_DURABLE`);
  }
  return problems;
}
