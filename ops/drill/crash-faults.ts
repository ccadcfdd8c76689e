import type { Supervised } from '../../stack/supervisor/supervised.js';
import { waitFor } from '../../stack/helpers/wait.js';
import { LocalDeployment } from '../deployment/local.js';
import type { FaultContext, FaultDefinition, Recorder } from './fault-run.js';

// The supervisor's backoff (0.5 s, doubling) and a start or two: a process not back by then is a note, and healed.
export const COMEBACK_TIMEOUT_MS = 40_000;

type CrashFault = 'crash-api' | 'crash-replica' | 'crash-sentinel' | 'crash-nginx';

/**
 * A SIGKILL from outside, as the OOM killer or a bug would: no Supervised.kill(), so the supervisor, not the
 * drill, must bring the process back. Which API instance, replica or Sentinel: in turn, by cycle.
 */
export const CRASH_FAULTS: Record<CrashFault, FaultDefinition> = {
  'crash-api': {
    needs: 'supervisor',
    run: async (ctx, run) => {
      await crash(run, pick(local(ctx).stack.apis, ctx.cycle, 'API instance'));
    },
  },

  'crash-replica': {
    needs: 'supervisor',
    run: async (ctx, run) => {
      const { topology } = local(ctx);
      const master = await topology.masterAddress();
      const replicas = topology.options.redisPorts.filter((port) => port !== master.port);
      const port = pick(replicas, ctx.cycle, 'replica');
      if (!(await crash(run, inTopology(ctx, `redis-${port}`)))) return;
      // Ready is PING; in service is replicating the master again.
      const left = run.faultAt + COMEBACK_TIMEOUT_MS - Date.now();
      await topology.waitForReplicaOf(port, master.port, left).then(
        () => run.act(`redis-${port} replicates redis-${master.port} again, ${run.since()} after the kill`),
        (err: Error) => run.notes.push(`redis-${port} back but not replicating redis-${master.port}: ${err.message}`),
      );
    },
  },

  'crash-sentinel': {
    needs: 'supervisor',
    run: async (ctx, run) => {
      const port = pick(local(ctx).topology.options.sentinelPorts, ctx.cycle, 'Sentinel');
      await crash(run, inTopology(ctx, `sentinel-${port}`));
    },
  },

  'crash-nginx': {
    needs: 'supervisor',
    run: async (ctx, run) => {
      const { nginx } = local(ctx).stack;
      if (!nginx) throw new Error('this stack runs no NGINX');
      await crash(run, nginx);
    },
  },
};

/** The supervised local stack these faults reach into (refused up front for any other kind). */
function local(ctx: FaultContext): LocalDeployment {
  if (!(ctx.deployment instanceof LocalDeployment)) throw new Error('a crash fault needs the local stack');
  return ctx.deployment;
}

/**
 * SIGKILLs its pid, then times its comeback from the kill: a new pid running, then its readiness probe passing
 * (run.recovery, and an action). Not back within COMEBACK_TIMEOUT_MS, or given up on: a note. Says whether it is back.
 */
async function crash(run: Recorder, child: Supervised): Promise<boolean> {
  const { name, ready } = child.spec;
  const oldPid = child.pid;
  if (oldPid === undefined) throw new Error(`${name} is not running`);
  run.act(`SIGKILL ${name} (pid ${oldPid}) from outside, as a crash`);
  process.kill(oldPid, 'SIGKILL');
  const recovery: NonNullable<Recorder['recovery']> = { process: name };
  run.recovery = recovery;
  const left = () => run.faultAt + COMEBACK_TIMEOUT_MS - Date.now();
  const gaveUp = () => child.gaveUp;
  try {
    const newPid = async () => {
      const pid = child.pid;
      if (pid === undefined || pid === oldPid) throw new Error(pid === undefined ? 'not running' : `still pid ${pid}`);
      return pid;
    };
    recovery.newPid = await waitFor(`${name} to run again with a new pid`, left(), newPid, gaveUp);
    recovery.pidMs = Date.now() - run.faultAt;
    await waitFor(`${name} to pass its readiness probe`, left(), ready, gaveUp);
    recovery.readyMs = Date.now() - run.faultAt;
  } catch (err) {
    const bound = `${COMEBACK_TIMEOUT_MS / 1000} s`;
    run.notes.push(`${name} not back and ready within ${bound} of the kill: ${(err as Error).message}`);
    return false;
  }
  const { newPid, pidMs, readyMs } = recovery;
  run.act(`${name} back (new pid ${newPid}) ${seconds(pidMs)} after the kill, ready ${seconds(readyMs)} after it`);
  return true;
}

const seconds = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(1)} s`;

function pick<T>(items: T[], cycle: number, what: string): T {
  const item = items[cycle % items.length];
  if (item === undefined) throw new Error(`no ${what} to crash`);
  return item;
}

function inTopology(ctx: FaultContext, name: string): Supervised {
  const found = local(ctx)
    .topology.supervised()
    .find((p) => p.spec.name === name);
  if (!found) throw new Error(`no ${name} in this topology`);
  return found;
}
