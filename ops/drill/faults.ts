import { setTimeout as sleep } from 'node:timers/promises';
import type { Capability, Deployment, Member } from '../deployment/deployment.js';
import { CRASH_FAULTS } from './crash-faults.js';
import { HOST_FAULTS } from './host-faults.js';
import { Recorder, switchAway, type FaultContext, type FaultDefinition, type FaultRun } from './fault-run.js';
import { MIXED_FAULTS, type ConcreteFault, type FaultName } from './options.js';
import { RESOURCE_FAULTS } from './resource-faults.js';
import { restartStack } from './restart-stack.js';

export type { FaultContext, FaultRun, Recovery } from './fault-run.js';

/** The faults a deployment cannot inject, each with the reason; the drill refuses them before it starts. */
export function refusedFaults(
  deployment: Pick<Deployment, 'kind' | 'capabilities'>,
  names: readonly FaultName[],
): string[] {
  return names.flatMap((name) => {
    const needs = name === 'mixed' ? undefined : ACTIONS[name].needs;
    if (needs === undefined || deployment.capabilities.has(needs)) return [];
    return [`${name} needs ${NEEDS[needs]}, which a ${deployment.kind} deployment does not have`];
  });
}

const NEEDS: Record<Capability, string> = {
  supervisor: "a supervisor of the drill's own that restarts a crashed process",
  'restart-whole': 'the whole deployment stopped and started again by the drill',
  'hold-down': 'a killed member that stays down until the drill starts it (an orchestrator restarts it at once)',
  hosts: 'hosts of their own to lose, freeze, cut off or drain',
  disks: "a small filesystem of the drill's own under each node's data (a local stack run as root)",
};

/**
 * Injects the named fault once (mixed: one drawn at random from those the deployment can inject) and returns
 * when it is over; healing is heal.ts's. A fault that cannot be completed is a note: the drill heals and goes on.
 */
export async function injectFault(name: FaultName, ctx: FaultContext): Promise<FaultRun> {
  const injectable = MIXED_FAULTS.filter((f) => refusedFaults(ctx.deployment, [f]).length === 0);
  const drawn = injectable[Math.floor(Math.random() * injectable.length)];
  const fault = name === 'mixed' ? (drawn ?? 'pause-master') : name;
  const run = new Recorder(fault, ctx);
  try {
    await ACTIONS[fault].run(ctx, run);
  } catch (err) {
    run.notes.push(`the fault could not be completed: ${(err as Error).message}`);
  }
  return run;
}

const ACTIONS: Record<ConcreteFault, FaultDefinition> = {
  'pause-master': {
    run: async (ctx, run) => {
      await pausedTogether(ctx, run, [await ctx.deployment.master()]);
    },
  },

  'kill-master': {
    needs: 'hold-down',
    run: async (ctx, run) => {
      const master = await ctx.deployment.master();
      run.act(`SIGKILL ${master.name}`);
      await ctx.deployment.kill(master.name, 'SIGKILL');
      // Down through the switch: the clients retrying ECONNREFUSED then meet +switch-master.
      await switchAway(ctx, run, master);
      run.act(`restart ${master.name} from its own data`);
      await ctx.deployment.start(master.name);
    },
  },

  'pause-replicas': {
    run: async (ctx, run) => {
      await pausedTogether(ctx, run, await replicas(ctx.deployment));
    },
  },

  'kill-api': {
    needs: 'hold-down',
    run: async (ctx, run) => {
      const apis = await ctx.deployment.apis();
      const api = apis[ctx.cycle % apis.length];
      if (!api) throw new Error('no API instance');
      run.act(`SIGKILL ${api.name}`);
      await ctx.deployment.kill(api.name, 'SIGKILL');
      run.act(`restart ${api.name}`);
      await ctx.deployment.start(api.name);
    },
  },

  'restart-all': {
    needs: 'hold-down',
    run: async (ctx, run) => {
      const nodes = await ctx.deployment.nodes();
      run.act(`SIGTERM ${nodes.map((node) => node.name).join(', ')}`);
      await Promise.all(nodes.map((node) => ctx.deployment.kill(node.name, 'SIGTERM')));
      run.act('restart every Redis node');
      await Promise.all(nodes.map((node) => ctx.deployment.start(node.name)));
    },
  },

  'double-failover': {
    run: async (ctx, run) => {
      const first = await ctx.deployment.master();
      const second = await pausedUntilSwitch(ctx, run, first);
      if (!second) return;
      run.act(`wait for ${first.name} to rejoin as a replica`);
      await ctx.deployment
        .waitForReplicaOf(first.name, second.name, ctx.failoverWaitMs)
        .catch((err: Error) => run.notes.push(err.message));
      await pausedUntilSwitch(ctx, run, second);
    },
  },

  'pause-sentinel-and-master': {
    run: async (ctx, run) => {
      const master = await ctx.deployment.master();
      const sentinels = await ctx.deployment.sentinels();
      const sentinel = sentinels[ctx.cycle % sentinels.length];
      await pausedTogether(ctx, run, sentinel === undefined ? [master] : [master, sentinel]);
    },
  },

  ...CRASH_FAULTS,

  // One replica short when the master dies: the Sentinels must promote the last one, and both must rejoin it.
  'replica-down-during-failover': { needs: 'hold-down', run: replicaDownDuringFailover },

  'restart-stack': { needs: 'restart-whole', run: restartStack },

  ...HOST_FAULTS,

  ...RESOURCE_FAULTS,
};

async function replicaDownDuringFailover(ctx: FaultContext, run: Recorder): Promise<void> {
  const { deployment } = ctx;
  const master = await deployment.master();
  const others = await replicas(deployment);
  const replica = others[ctx.cycle % others.length];
  if (replica === undefined) throw new Error('no replica to stop');
  run.act(`SIGTERM ${replica.name} (stopped, it stays down)`);
  await deployment.kill(replica.name, 'SIGTERM');
  run.act(`SIGKILL ${master.name} (deliberate: no automatic restart)`);
  await deployment.kill(master.name, 'SIGKILL');
  const promoted = await switchAway(ctx, run, master);
  run.act(`restart ${master.name} and ${replica.name}`);
  await Promise.all([deployment.start(master.name), deployment.start(replica.name)]);
  run.recovery = { process: `${master.name}, ${replica.name}` };
  if (!promoted) return;
  const rejoin = async (name: string): Promise<boolean> => {
    try {
      await deployment.waitForReplicaOf(name, promoted.name, ctx.failoverWaitMs);
      run.act(`${name} replicates ${promoted.name}`);
      return true;
    } catch (err) {
      run.notes.push(`${name} did not rejoin ${promoted.name}: ${(err as Error).message}`);
      return false;
    }
  };
  const rejoined = await Promise.all([master.name, replica.name].map(rejoin));
  // Both online: a master without the replica that min-replicas-to-write needs refuses writes until then.
  if (rejoined.every(Boolean)) run.recovery.readyMs = Date.now() - run.faultAt;
}

/** Every node but the master the Sentinels name now. */
async function replicas(deployment: Deployment): Promise<Member[]> {
  const master = await deployment.master();
  return (await deployment.nodes()).filter((node) => node.name !== master.name);
}

/** Paused for pauseMs, then resumed, whatever happens meanwhile. */
async function pausedTogether(ctx: FaultContext, run: Recorder, members: Member[]): Promise<void> {
  const { pause, resume } = ctx.deployment.verbs;
  const names = members.map((m) => m.name).join(', ');
  run.act(`${pause} ${names} for ${ctx.pauseMs / 1000} s`);
  await Promise.all(members.map((m) => ctx.deployment.pause(m.name)));
  try {
    await sleep(ctx.pauseMs);
  } finally {
    run.act(`${resume} ${names}`);
    await Promise.all(members.map((m) => ctx.deployment.resume(m.name)));
  }
}

async function pausedUntilSwitch(ctx: FaultContext, run: Recorder, master: Member): Promise<Member | undefined> {
  const { pause, resume } = ctx.deployment.verbs;
  run.act(`${pause} ${master.name} until the switch`);
  await ctx.deployment.pause(master.name);
  try {
    return await switchAway(ctx, run, master);
  } finally {
    run.act(`${resume} ${master.name}`);
    await ctx.deployment.resume(master.name);
  }
}
