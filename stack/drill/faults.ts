import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalStack } from '../stack.js';
import type { Address, Topology } from '../topology/topology.js';
import { FAULTS, type ConcreteFault, type FaultName } from './options.js';

export interface FaultContext {
  stack: LocalStack;
  topology: Topology;
  /** 0-based: picks which API instance or Sentinel takes its turn. */
  cycle: number;
  pauseMs: number;
  /** How long to wait for the Sentinels to switch masters (kill-master, double-failover). */
  failoverWaitMs: number;
  /** Progress: what the fault does now. */
  step: (what: string) => void;
}

/** What a fault did, with the time of each action; faultAt is the first one. */
export interface FaultRun {
  fault: ConcreteFault;
  faultAt: number;
  actions: { at: number; what: string }[];
  notes: string[];
}

type Fault = (ctx: FaultContext, run: Recorder) => Promise<void>;

class Recorder implements FaultRun {
  faultAt = 0;
  actions: { at: number; what: string }[] = [];
  notes: string[] = [];
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
}

/**
 * Injects the named fault once (mixed: one drawn at random) and returns when it is over; healing is heal.ts's.
 * A fault that cannot be completed is a note in the report: the drill heals and goes on.
 */
export async function injectFault(name: FaultName, ctx: FaultContext): Promise<FaultRun> {
  const concrete = FAULTS.filter((f): f is ConcreteFault => f !== 'mixed');
  const fault = name === 'mixed' ? (concrete[Math.floor(Math.random() * concrete.length)] ?? 'pause-master') : name;
  const run = new Recorder(fault, ctx);
  try {
    await ACTIONS[fault](ctx, run);
  } catch (err) {
    run.notes.push(`the fault could not be completed: ${(err as Error).message}`);
  }
  return run;
}

const ACTIONS: Record<ConcreteFault, Fault> = {
  'pause-master': async (ctx, run) => {
    const master = await ctx.topology.masterAddress();
    await pausedTogether(ctx, run, [master.port]);
  },

  'kill-master': async (ctx, run) => {
    const master = await ctx.topology.masterAddress();
    run.act(`SIGKILL redis-${master.port}`);
    await ctx.topology.kill(master.port, 'SIGKILL');
    // Down through the switch: the clients retrying ECONNREFUSED then meet +switch-master.
    await switchAway(ctx, run, master);
    run.act(`restart redis-${master.port} from its own data`);
    await ctx.topology.restart(master.port);
  },

  'pause-replicas': async (ctx, run) => {
    const master = await ctx.topology.masterAddress();
    await pausedTogether(
      ctx,
      run,
      ctx.topology.options.redisPorts.filter((port) => port !== master.port),
    );
  },

  'kill-api': async (ctx, run) => {
    const i = ctx.cycle % ctx.stack.apis.length;
    const api = ctx.stack.apis[i];
    if (!api) throw new Error(`no API instance ${i}`);
    run.act(`SIGKILL ${api.spec.name}`);
    await api.kill('SIGKILL');
    run.act(`restart ${api.spec.name}`);
    await ctx.stack.startApi(i);
  },

  'restart-all': async (ctx, run) => {
    const ports = ctx.topology.options.redisPorts;
    run.act(`SIGTERM ${ports.map((p) => `redis-${p}`).join(', ')}`);
    await Promise.all(ports.map((port) => ctx.topology.kill(port, 'SIGTERM')));
    run.act('restart every Redis node');
    await Promise.all(ports.map((port) => ctx.topology.restart(port)));
  },

  'double-failover': async (ctx, run) => {
    const first = await ctx.topology.masterAddress();
    const second = await pausedUntilSwitch(ctx, run, first);
    if (!second) return;
    run.act(`wait for redis-${first.port} to rejoin as a replica`);
    await ctx.topology
      .waitForReplicaOf(first.port, second.port, ctx.failoverWaitMs)
      .catch((err: Error) => run.notes.push(err.message));
    await pausedUntilSwitch(ctx, run, second);
  },

  'pause-sentinel-and-master': async (ctx, run) => {
    const master = await ctx.topology.masterAddress();
    const sentinels = ctx.topology.options.sentinelPorts;
    const sentinel = sentinels[ctx.cycle % sentinels.length];
    await pausedTogether(ctx, run, sentinel === undefined ? [master.port] : [master.port, sentinel]);
  },
};

/** SIGSTOP for pauseMs, then SIGCONT, whatever happens meanwhile. */
async function pausedTogether(ctx: FaultContext, run: Recorder, ports: number[]): Promise<void> {
  const names = ports.map((port) => nameOf(ctx, port)).join(', ');
  run.act(`SIGSTOP ${names} for ${ctx.pauseMs / 1000} s`);
  ports.forEach((port) => ctx.topology.pause(port));
  try {
    await sleep(ctx.pauseMs);
  } finally {
    run.act(`SIGCONT ${names}`);
    ports.forEach((port) => ctx.topology.resume(port));
  }
}

async function pausedUntilSwitch(ctx: FaultContext, run: Recorder, master: Address): Promise<Address | undefined> {
  run.act(`SIGSTOP redis-${master.port} until the switch`);
  ctx.topology.pause(master.port);
  try {
    return await switchAway(ctx, run, master);
  } finally {
    run.act(`SIGCONT redis-${master.port}`);
    ctx.topology.resume(master.port);
  }
}

/** Waits for every running Sentinel to name another master; a switch that never comes is a note, not a crash. */
async function switchAway(ctx: FaultContext, run: Recorder, master: Address): Promise<Address | undefined> {
  try {
    const promoted = await ctx.topology.waitForFailover(master.port, ctx.failoverWaitMs);
    run.act(`the Sentinels name redis-${promoted.port}`);
    return promoted;
  } catch (err) {
    run.notes.push(`no switch away from redis-${master.port}: ${(err as Error).message}`);
    return undefined;
  }
}

function nameOf(ctx: FaultContext, port: number): string {
  return ctx.topology.options.sentinelPorts.includes(port) ? `sentinel-${port}` : `redis-${port}`;
}
