import type { LocalStack } from '../../stack/stack.js';
import type { Address, Topology } from '../../stack/topology/topology.js';
import type { DrillStack } from './drill-stack.js';
import type { ConcreteFault } from './options.js';
import type { SentinelEvents } from './sentinel-events.js';

export interface FaultContext {
  /** The stack as the cycle began; restart-stack replaces target.current with a new one. */
  stack: LocalStack;
  topology: Topology;
  target: DrillStack;
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
export async function switchAway(ctx: FaultContext, run: Recorder, master: Address): Promise<Address | undefined> {
  try {
    const promoted = await ctx.topology.waitForFailover(master.port, ctx.failoverWaitMs);
    run.act(`the Sentinels name redis-${promoted.port}`);
    return promoted;
  } catch (err) {
    run.notes.push(`no switch away from redis-${master.port}: ${(err as Error).message}`);
    return undefined;
  }
}
