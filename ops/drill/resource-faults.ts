import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { command } from '../../stack/helpers/redis-probe.js';
import { waitFor } from '../../stack/helpers/wait.js';
import type { Deployment, Member } from '../deployment/deployment.js';
import type { FaultContext, FaultDefinition, Recorder } from './fault-run.js';
import { AlertWatch, ReplicaRoutingWatch } from './resource-watch.js';

/**
 * How long a resource stays short: past Prometheus's scrape and rule intervals (5 s each), so that the alert a
 * fault must raise has fired before the resource comes back.
 */
export const HOLD_MS = 20_000;
/** slow-replica: the replica's process stopped this long of every THROTTLE_PERIOD_MS. */
const THROTTLE_STOP_MS = 2500;
const THROTTLE_PERIOD_MS = 3000;
/** How long after the fault ends writes (or a replica's place in rotation) may take to come back. */
const COMEBACK_TIMEOUT_MS = 30_000;
const MIB = 2 ** 20;
/** memory-full: maxmemory this far above what the master uses, then filled with the drill's own values. */
const HEADROOM_BYTES = 32 * MIB;
/** Outside the service's key prefix: nothing of the store's is touched, and the admin user may write it. */
const BALLAST_KEY = 'evergreen-drill:ballast';

/**
 * The faults of a resource running out rather than a process failing: the master's disk, its memory, and a
 * replica too slow to keep up. Each holds for HOLD_MS, watching the deployment's alerts, then gives the resource
 * back and times the way back.
 */
export const RESOURCE_FAULTS = {
  'disk-full': { needs: 'disks', run: diskFull },
  'memory-full': { run: memoryFull },
  'slow-replica': { run: slowReplica },
} satisfies Record<string, FaultDefinition>;

/**
 * The master's data filesystem filled to the last byte. Redis fails its next AOF write and from then on answers
 * every write — and Sentinel's PING — with MISCONF: the Sentinels see it down and, after down-after, promote a
 * replica whose disk is fine. Freed after HOLD_MS; the node then rejoins as a replica.
 */
async function diskFull(ctx: FaultContext, run: Recorder): Promise<void> {
  const { deployment } = ctx;
  const disks = deployment.disks;
  if (!disks) throw new Error('the deployment has no small filesystems to fill');
  const master = await deployment.master();
  run.act(`fill ${master.name}'s data filesystem`);
  const alerts = alertWatch(deployment, run.faultAt);
  let restoredAt = 0;
  try {
    const bytes = await disks.fill(master.name);
    run.act(`${master.name}'s filesystem full (${(bytes / MIB).toFixed(0)} MiB written); hold ${HOLD_MS / 1000} s`);
    await waitFor('the master to fail an AOF write', 10_000, async () => {
      if (!(await info(deployment, master, 'persistence')).includes('aof_last_write_status:err')) throw new Error('ok');
    }).then(
      () => run.act(`${master.name} failed to write its AOF: it refuses writes (MISCONF)`),
      (err: Error) => run.notes.push(err.message),
    );
    await sleep(HOLD_MS);
  } finally {
    run.act(`free ${master.name}'s filesystem`);
    await disks.free(master.name);
    restoredAt = Date.now();
  }
  const writableMs = await untilWritable(deployment, restoredAt, run);
  run.observed = {
    restoredAt,
    writableMs,
    ...(await alerts.stopAndExpect('EvergreenRedisAofWriteFailed')),
  };
}

/** maxmemory reached on the master (noeviction): it refuses every command that may grow memory (OOM). */
async function memoryFull(ctx: FaultContext, run: Recorder): Promise<void> {
  const { deployment } = ctx;
  const master = await deployment.master();
  const memory = await info(deployment, master, 'memory');
  const used = field(memory, 'used_memory');
  const original = field(memory, 'maxmemory');
  const limit = used + HEADROOM_BYTES;
  const client = adminClient(deployment, master);
  run.act(`${master.name}: maxmemory ${(limit / MIB).toFixed(0)} MiB (used + 32 MiB), filled with values of its own`);
  const alerts = alertWatch(deployment, run.faultAt);
  let restoredAt = 0;
  try {
    await client.config('SET', 'maxmemory', String(limit));
    const written = await fillMemory(client);
    run.act(`${master.name} at maxmemory after ${(written / MIB).toFixed(1)} MiB: hold ${HOLD_MS / 1000} s`);
    await sleep(HOLD_MS);
  } finally {
    run.act(`free the values, maxmemory back to ${original === 0 ? 'none' : `${(original / MIB).toFixed(0)} MiB`}`);
    await client.del(BALLAST_KEY);
    restoredAt = Date.now();
    await client.config('SET', 'maxmemory', String(original));
    client.disconnect();
  }
  const writableMs = await untilWritable(deployment, restoredAt, run);
  run.observed = { restoredAt, writableMs, ...(await alerts.stopAndExpect('EvergreenRedisMemoryFull')) };
}

/**
 * One replica's process throttled (stopped THROTTLE_STOP_MS of every THROTTLE_PERIOD_MS): it falls seconds behind
 * and answers late, while the other keeps up. WAIT counts the good one; the API instances must call the slow one
 * lagging and read elsewhere.
 */
async function slowReplica(ctx: FaultContext, run: Recorder): Promise<void> {
  const { deployment } = ctx;
  const master = await deployment.master();
  const replicas = (await deployment.nodes()).filter((n) => n.name !== master.name);
  const replica = replicas[ctx.cycle % replicas.length];
  if (!replica) throw new Error('no replica to throttle');
  const [stop, period] = [THROTTLE_STOP_MS / 1000, THROTTLE_PERIOD_MS / 1000];
  run.act(`throttle ${replica.name}: ${deployment.verbs.pause} ${stop} s of every ${period} s for ${HOLD_MS / 1000} s`);
  const routing = new ReplicaRoutingWatch(deployment, replica, run.faultAt);
  const until = Date.now() + HOLD_MS;
  try {
    while (Date.now() < until) {
      await deployment.pause(replica.name);
      try {
        await sleep(THROTTLE_STOP_MS);
      } finally {
        await deployment.resume(replica.name);
      }
      await sleep(THROTTLE_PERIOD_MS - THROTTLE_STOP_MS);
    }
  } finally {
    routing.throttleEnded();
    run.act(`${replica.name} runs freely again`);
  }
  const restoredAt = Date.now();
  // Readmitted once its lag stays low: the watch records when; bounded so that a cycle always ends.
  await sleep(Math.min(COMEBACK_TIMEOUT_MS, 10_000));
  run.observed = { restoredAt, alerts: {}, replica: await routing.stop() };
}

/** The Prometheus alerts seen while a fault holds; none looked at when the deployment runs no Prometheus. */
function alertWatch(deployment: Deployment, from: number) {
  const url = deployment.prometheusUrl;
  const watch = url === undefined ? undefined : new AlertWatch(url, from);
  return {
    stopAndExpect: async (expectedAlert: string) =>
      watch ? { expectedAlert, alerts: await watch.stop() } : { alerts: {} as Record<string, number> },
  };
}

/**
 * After restoredAt: how long until the master the Sentinels name (by then perhaps another node) takes a write of
 * the drill's own; undefined when it does not within COMEBACK_TIMEOUT_MS.
 */
async function untilWritable(deployment: Deployment, restoredAt: number, run: Recorder): Promise<number | undefined> {
  try {
    const master = await waitFor('the master to take writes again', COMEBACK_TIMEOUT_MS, async () => {
      const now = await deployment.master();
      await command(now.host, now.port, deployment.redisAdmin, ['SET', `${BALLAST_KEY}:probe`, '1', 'PX', '1000']);
      return now;
    });
    const ms = Date.now() - restoredAt;
    run.act(`${master.name}, the master, takes writes (${ms} ms after)`);
    return ms;
  } catch (err) {
    run.notes.push((err as Error).message);
    return undefined;
  }
}

/** Appends to one value of the drill's own until the master refuses (OOM); resolves with the bytes written. */
async function fillMemory(client: Redis): Promise<number> {
  let written = 0;
  for (const size of [MIB, 64 * 1024, 1024]) {
    const chunk = 'x'.repeat(size);
    for (let i = 0; i < (2 * HEADROOM_BYTES) / size; i++) {
      try {
        await client.append(BALLAST_KEY, chunk);
        written += size;
      } catch (err) {
        if ((err as Error).message.startsWith('OOM')) break;
        throw err;
      }
    }
  }
  return written;
}

function adminClient(deployment: Deployment, node: Member): Redis {
  const { username, password } = deployment.redisAdmin;
  const client = new Redis({ host: node.host, port: node.port, username, password, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}

async function info(deployment: Deployment, node: Member, section: string): Promise<string> {
  return String(await command(node.host, node.port, deployment.redisAdmin, ['INFO', section]));
}

function field(info: string, name: string): number {
  const value = Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);
  if (!Number.isFinite(value)) throw new Error(`INFO has no ${name}`);
  return value;
}
