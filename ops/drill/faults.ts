import { setTimeout as sleep } from 'node:timers/promises';
import type { Address } from '../../stack/topology/topology.js';
import { CRASH_FAULTS } from './crash-faults.js';
import { Recorder, switchAway, type Fault, type FaultContext, type FaultRun } from './fault-run.js';
import { MIXED_FAULTS, type ConcreteFault, type FaultName } from './options.js';
import { restartStack } from './restart-stack.js';

export type { FaultContext, FaultRun, Recovery } from './fault-run.js';

/**
 * Injects the named fault once (mixed: one drawn at random) and returns when it is over; healing is heal.ts's.
 * A fault that cannot be completed is a note in the report: the drill heals and goes on.
 */
export async function injectFault(name: FaultName, ctx: FaultContext): Promise<FaultRun> {
  const drawn = MIXED_FAULTS[Math.floor(Math.random() * MIXED_FAULTS.length)];
  const fault = name === 'mixed' ? (drawn ?? 'pause-master') : name;
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

  ...CRASH_FAULTS,

  // One replica short when the master dies: the Sentinels must promote the last one, and both must rejoin it.
  'replica-down-during-failover': async (ctx, run) => {
    const master = await ctx.topology.masterAddress();
    const replicas = ctx.topology.options.redisPorts.filter((port) => port !== master.port);
    const replica = replicas[ctx.cycle % replicas.length];
    if (replica === undefined) throw new Error('no replica to stop');
    run.act(`SIGTERM redis-${replica} (stopped, it stays down)`);
    await ctx.topology.kill(replica, 'SIGTERM');
    run.act(`SIGKILL redis-${master.port} (deliberate: no automatic restart)`);
    await ctx.topology.kill(master.port, 'SIGKILL');
    const promoted = await switchAway(ctx, run, master);
    run.act(`restart redis-${master.port} and redis-${replica}`);
    await Promise.all([ctx.topology.restart(master.port), ctx.topology.restart(replica)]);
    run.recovery = { process: `redis-${master.port}, redis-${replica}` };
    if (!promoted) return;
    const rejoin = async (port: number): Promise<boolean> => {
      try {
        await ctx.topology.waitForReplicaOf(port, promoted.port, ctx.failoverWaitMs);
        run.act(`redis-${port} replicates redis-${promoted.port}`);
        return true;
      } catch (err) {
        run.notes.push(`redis-${port} did not rejoin redis-${promoted.port}: ${(err as Error).message}`);
        return false;
      }
    };
    const rejoined = await Promise.all([master.port, replica].map(rejoin));
    // Both online: a master without the replica that min-replicas-to-write needs refuses writes until then.
    if (rejoined.every(Boolean)) run.recovery.readyMs = Date.now() - run.faultAt;
  },

  'restart-stack': restartStack,
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

function nameOf(ctx: FaultContext, port: number): string {
  return ctx.topology.options.sentinelPorts.includes(port) ? `sentinel-${port}` : `redis-${port}`;
}
