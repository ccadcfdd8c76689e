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

/** What a resource fault saw while it held: the alerts of the deployment's Prometheus, and where reads went. */
export interface Observed {
  /** When the resource came back (space or memory freed, the replica no longer throttled). */
  restoredAt: number;
  /** Until the master took a write of the drill's own again, after restoredAt (disk-full, memory-full). */
  writableMs?: number;
  /** The alert the fault must raise; undefined when the deployment runs no Prometheus this host reaches. */
  expectedAlert?: string;
  /** Each alert seen firing while the fault held: ms after the fault. */
  alerts: Record<string, number>;
  /** slow-replica: what the API instances said of the throttled replica. */
  replica?: ReplicaRouting;
}

/** slow-replica, from the API instances' metrics: when they called the replica lagging, and its share of reads. */
export interface ReplicaRouting {
  /** The throttled replica as the instances label it (host:port). */
  label: string;
  /** ms after the fault until every instance called it lagging (undefined: not all of them did). */
  excludedMs?: number;
  /** The most any instance estimated its lag, in ms. */
  maxLagMs: number;
  /** Catalog reads the replicas served while the fault held: the throttled one, and all of them. */
  servedByIt: number;
  servedByReplicas: number;
  /** ms after the throttle ended until no instance called it lagging (undefined: not within the heal). */
  readmittedMs?: number;
}

/** What a fault did, with the time of each action; faultAt is the first one. */
export interface FaultRun {
  fault: ConcreteFault;
  faultAt: number;
  actions: { at: number; what: string }[];
  notes: string[];
  recovery?: Recovery;
  observed?: Observed;
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
  observed: Observed | undefined;
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
