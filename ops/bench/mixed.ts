import type { DeploymentView } from '../deployment/deployment.js';
import type { ScenarioResult } from './results.js';
import { MIXED, measure, wrkScenario, type BenchData, type MeasureRun } from './scenarios.js';

export const MIXED_WHAT =
  "catalog-get's reads alone, then again under a login storm (a second wrk on POST /auth/login)";

/** A fifth of the readers' connections log in (at least 2): a storm, beside reads that still dominate. */
export const loginConnections = (connections: number) => Math.max(2, Math.round(connections / 5));

/**
 * A login storm must not stall reads: catalog-get through NGINX for the duration alone, then the same reads with
 * the login scenario running beside them in a second wrk. The row is the reads under the storm, as a share of alone.
 */
export async function runMixed(
  deployment: DeploymentView,
  data: BenchData,
  run: MeasureRun,
  log: (msg: string) => void,
): Promise<ScenarioResult> {
  const reads = wrkScenario('catalog-get');
  const storm = loginConnections(run.connections);
  // One `mixed: ` line and one indented line: how --profile tells scenarios apart.
  log(
    `${MIXED}: catalog-get alone, then beside login with ${storm} connections; ` +
      `${run.durationSeconds} s each, ${run.connections} connections reading`,
  );
  const alone = await measure(reads, deployment, data, { ...run, runName: `${MIXED}-reads-alone` });
  log(`${MIXED} · reads alone: ${Math.round(alone.rps)} req/s, p99 ${alone.p99Ms.toFixed(1)} ms`);
  const [under, logins] = await Promise.all([
    measure(reads, deployment, data, { ...run, runName: `${MIXED}-reads` }),
    measure(wrkScenario('login'), deployment, data, { ...run, connections: storm, runName: `${MIXED}-logins` }),
  ]);
  log(
    `  reads: p99 ${alone.p99Ms.toFixed(1)} ms alone, ${under.p99Ms.toFixed(1)} ms under ` +
      `${Math.round(logins.rps)} logins/s; ${under.errors + logins.errors} errors, ` +
      `${under.unexpected + logins.unexpected} unexpected`,
  );
  return {
    ...under,
    name: MIXED,
    what: MIXED_WHAT,
    ceiling: 'reads alone',
    ratio: under.rps / alone.rps,
    mixed: { alone, logins, loginConnections: storm },
  };
}

const statusList = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ') || 'none';

/** The line under the table: read p99 and req/s with and without the storm, and what the storm got. */
export function renderMixed(result: ScenarioResult): string[] {
  const { alone, logins, loginConnections: storm } = result.mixed ?? {};
  if (!alone || !logins) return [];
  const ratio = (a: number, b: number) => `${Math.round((a / b) * 100)}%`;
  return [
    `mixed: reads p99 ${alone.p99Ms.toFixed(1)} ms alone, ${result.p99Ms.toFixed(1)} ms under ` +
      `${Math.round(logins.rps)} logins/s (${ratio(result.p99Ms, alone.p99Ms)}); reads ${Math.round(alone.rps)} ` +
      `req/s alone, ${Math.round(result.rps)} under the storm (${ratio(result.rps, alone.rps)}); ` +
      `p50 ${alone.p50Ms.toFixed(1)} → ${result.p50Ms.toFixed(1)} ms. ` +
      `Logins (${storm} connections): ${statusList(logins.statuses)}, ${logins.errors} errors, ` +
      `${logins.unexpected} unexpected; reads alone: ${alone.errors} errors, ${alone.unexpected} unexpected`,
  ];
}
