import { setTimeout as sleep } from 'node:timers/promises';
import type { Deployment } from '../deployment/deployment.js';
import { clusterView, readinessProblems, settledProblems } from './cluster-check.js';
import { ATTEMPT_EVENTS, type SentinelEvents } from './sentinel-events.js';

export interface HealContext {
  deployment: Deployment;
  events: SentinelEvents;
  /** Sentinel's failover-timeout: an attempt that did not switch blocks the next one for twice that. */
  failoverTimeoutMs: number;
  timeoutMs: number;
  step: (what: string) => void;
}

export interface HealResult {
  healed: boolean;
  healMs: number;
  /** Why it is not healed (the last check's problems), empty when healed. */
  problems: string[];
}

const STABLE_MS = 1000;
// After a resume, a replica client may reconnect a few times before it settles.
const READY_TIMEOUT_MS = 20_000;

/**
 * Between cycles: everything runs again, one master that every Sentinel names with every other node
 * replicating it, no Sentinel in TILT, every API instance and NGINX ready, and Sentinel's re-failover guard expired.
 * Never throws: a heal that times out is reported and the drill goes on.
 */
export async function heal(ctx: HealContext, since: number): Promise<HealResult> {
  const { deployment } = ctx;
  const started = Date.now();
  const problems: string[] = [];
  const waitUntil = async (what: string, timeoutMs: number, check: () => Promise<string[]>) => {
    ctx.step(`wait for ${what}`);
    const left = await settledProblems(timeoutMs, check);
    if (left.length > 0) problems.push(`no ${what} after ${timeoutMs / 1000} s: ${left.join('; ')}`);
  };
  problems.push(...(await deployment.bringBack()));
  // Twice, a second apart: a look taken the instant a pause ends can fall before the Sentinels react.
  await waitUntil('quiet Sentinels naming one master with every replica', ctx.timeoutMs, async () => {
    const first = await clusterView(deployment, { offsets: false, quietSentinels: true });
    if (first.problems.length > 0) return first.problems;
    await sleep(STABLE_MS);
    return (await clusterView(deployment, { offsets: false, quietSentinels: true })).problems;
  });
  // The clients field is checked strictly at the end (invariant 4); here a missing one must not stall every cycle.
  await waitUntil('every API instance and NGINX ready', READY_TIMEOUT_MS, async () => {
    const found = await readinessProblems(deployment);
    return found.filter((p) => !p.includes('has no redis.clients'));
  });
  const guardEnds = guardEnd(ctx, since);
  if (guardEnds > Date.now()) {
    ctx.step(`wait ${((guardEnds - Date.now()) / 1000).toFixed(1)} s for Sentinel's re-failover guard`);
    await sleep(guardEnds - Date.now());
  }
  return { healed: problems.length === 0, healMs: Date.now() - started, problems };
}

/** When a failover attempt since `since` that did not end in +switch-master stops blocking the next one. */
function guardEnd(ctx: HealContext, since: number): number {
  const events = ctx.events.between(since, Date.now());
  const lastAttempt = events.filter((e) => ATTEMPT_EVENTS.includes(e.event)).at(-1);
  if (!lastAttempt) return 0;
  const switched = events.some((e) => e.event === '+switch-master' && e.at >= lastAttempt.at);
  return switched ? 0 : lastAttempt.at + 2 * ctx.failoverTimeoutMs + 1000;
}
