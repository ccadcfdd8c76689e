import type { Capability, Deployment, Member } from '../deployment/deployment.js';
import type { ConcreteFault } from './options.js';
import type { SentinelEvents } from './sentinel-events.js';

export interface FaultContext {
  deployment: Deployment;
  events: SentinelEvents;
  /** 0-based: picks which API instance, replica or Sentinel takes its turn. */
  cycle: number;
  pauseMs: number;
  /** How long to wait for the Sentinels to switch masters (kill-master, double-failover). */
  failoverWaitMs: number;
  /** Progress: what the fault does now. */
  step: (what: string) => void;
}

/** How a crashed or stopped process (or the whole stack) came back, in milliseconds after the fault. */
export interface Recovery {
  /** e.g. redis-6380, api-3001, nginx, stack. */
  process: string;
  newPid?: number;
  /** Until a new pid ran (undefined: none within the bound). */
  pidMs?: number;
  /** Until its readiness probe passed (undefined: not within the bound). */
  readyMs?: number;
}

/** What a fault did, with the time of each action; faultAt is the first one. */
export interface FaultRun {
  fault: ConcreteFault;
  faultAt: number;
  actions: { at: number; what: string }[];
  notes: string[];
  recovery?: Recovery;
}

export type Fault = (ctx: FaultContext, run: Recorder) => Promise<void>;

/** A fault, and what of the deployment it needs beyond pause, kill and start (a kind without it is refused). */
export interface FaultDefinition {
  needs?: Capability;
  run: Fault;
}

export class Recorder implements FaultRun {
  faultAt = 0;
  actions: { at: number; what: string }[] = [];
  notes: string[] = [];
  recovery: Recovery | undefined;
  constructor(
    readonly fault: ConcreteFault,
    private readonly ctx: FaultContext,
  ) {}

  act(what: string): void {
    const at = Date.now();
    this.faultAt ||= at;
    this.actions.push({ at, what });
    this.ctx.step(what);
  }

  /** Seconds since the fault's first action, for the actions' own words. */
  since(): string {
    return `${((Date.now() - this.faultAt) / 1000).toFixed(1)} s`;
  }
}

/** Waits for every running Sentinel to name another master; a switch that never comes is a note, not a crash. */
export async function switchAway(ctx: FaultContext, run: Recorder, master: Member): Promise<Member | undefined> {
  try {
    const promoted = await ctx.deployment.waitForFailover(master.name, ctx.failoverWaitMs);
    run.act(`the Sentinels name ${promoted.name}`);
    return promoted;
  } catch (err) {
    run.notes.push(`no switch away from ${master.name}: ${(err as Error).message}`);
    return undefined;
  }
}
