import { setTimeout as sleep } from 'node:timers/promises';
import { command } from '../../stack/helpers/redis-probe.js';
import { waitFor } from '../../stack/helpers/wait.js';
import { waitForSentinelsToSwitch, type HostControl, type Member } from '../deployment/deployment.js';
import { switchAway, type FaultContext, type FaultDefinition, type Recorder } from './fault-run.js';

type HostFault = 'kill-node' | 'freeze-node' | 'partition-node' | 'drain-node' | 'upgrade-api';

const PLACEMENT_POLL_MS = 1000;
const RESCHEDULE_TIMEOUT_MS = 90_000;
/** How long a cut-off host stays cut off after the majority has promoted: its island keeps running meanwhile. */
const ISLAND_HOLD_MS = 10_000;

/**
 * Faults of whole hosts, always the one that holds the Redis master (a deployment with `hosts`: Swarm). What the
 * orchestrator did meanwhile — a task stopped, moved, started — is recorded as actions, from its own task list.
 */
export const HOST_FAULTS: Record<HostFault, FaultDefinition> = {
  // Power lost: the master's Redis node, its Sentinel, an API instance and that host's NGINX go at once.
  'kill-node': {
    needs: 'hosts',
    run: (ctx, run) =>
      watched(ctx, run, async (hosts) => {
        const { master, host } = await masterHost(ctx, hosts);
        run.act(`docker kill ${host} (power lost: it holds ${master.name})`);
        await hosts.kill(host);
        const promoted = await switchAway(ctx, run, master);
        await apisBack(ctx, run, hosts);
        run.act(`docker start ${host}`);
        await hosts.start(host);
        run.act(`${host} is ready in the swarm again`);
        if (promoted) await rejoined(ctx, run, master, promoted);
      }),
  },

  // The host-level form of the pause drill: the whole host frozen for the sweep's length, then thawed.
  'freeze-node': {
    needs: 'hosts',
    run: (ctx, run) =>
      watched(ctx, run, async (hosts) => {
        const { master, host } = await masterHost(ctx, hosts);
        run.act(`docker pause ${host} for ${ctx.pauseMs / 1000} s (it holds ${master.name})`);
        await hosts.freeze(host);
        try {
          await sleep(ctx.pauseMs);
        } finally {
          run.act(`docker unpause ${host}`);
          await hosts.thaw(host);
        }
      }),
  },

  // The master's host cut off from the others, with an API instance on each side, until the majority has
  // promoted and then some; healed, the old master must come back as a replica and lose no acknowledged write.
  'partition-node': {
    needs: 'hosts',
    run: (ctx, run) =>
      watched(ctx, run, async (hosts) => {
        const { master, host } = await masterBesideAnApi(ctx, run, hosts);
        run.act(`cut ${host} off from every other host (iptables DROP both ways; it holds ${master.name})`);
        await hosts.cutOff(host);
        let promoted: Member | undefined;
        try {
          const majority = async () => {
            const all = await ctx.deployment.sentinels();
            const island = await Promise.all(all.map(async (s) => (await hosts.hostOf(s.name)) === host));
            return all.filter((_, i) => !island[i]);
          };
          promoted = await waitForSentinelsToSwitch(ctx.deployment, master.name, ctx.failoverWaitMs, majority).then(
            (m) => (run.act(`the majority's Sentinels name ${m.name}`), m),
            (err: Error) => (run.notes.push(`the majority did not switch: ${err.message}`), undefined),
          );
          run.act(`${host} stays cut off ${ISLAND_HOLD_MS / 1000} s more (its island runs on)`);
          await sleep(ISLAND_HOLD_MS);
        } finally {
          run.act(`heal the partition of ${host}`);
          await hosts.reconnect(host);
        }
        if (promoted) await rejoined(ctx, run, master, promoted);
      }),
  },

  // Planned maintenance done bluntly: the master's host drained. Its pinned Redis node and Sentinel stop (they
  // cannot move), its API task moves; then it is made active again and its node rejoins.
  'drain-node': {
    needs: 'hosts',
    run: (ctx, run) =>
      watched(ctx, run, async (hosts) => {
        const { master, host } = await masterHost(ctx, hosts);
        run.act(`docker node update --availability drain ${host} (it holds ${master.name})`);
        await hosts.drain(host);
        const promoted = await switchAway(ctx, run, master);
        await apisBack(ctx, run, hosts);
        run.act(`docker node update --availability active ${host}`);
        await hosts.activate(host);
        if (promoted) await rejoined(ctx, run, master, promoted);
      }),
  },

  // A rolling upgrade of the API under load: one task at a time, the new one healthy before the old one stops.
  'upgrade-api': {
    needs: 'hosts',
    run: (ctx, run) =>
      watched(ctx, run, async (hosts) => {
        run.act('docker service update --image (a new tag) of the API');
        const tag = await hosts.upgradeApi();
        run.act(`every API task runs ${tag}`);
      }),
  },
};

function hostsOf(ctx: FaultContext): HostControl {
  if (!ctx.deployment.hosts) throw new Error(`a ${ctx.deployment.kind} deployment has no hosts to fail`);
  return ctx.deployment.hosts;
}

async function masterHost(ctx: FaultContext, hosts: HostControl): Promise<{ master: Member; host: string }> {
  const master = await ctx.deployment.master();
  return { master, host: await hosts.hostOf(master.name) };
}

/**
 * The master on a host that also runs an API instance, so that one client talks to each side of the cut: when
 * it is not, the Sentinels are asked to fail over (a host without an API leaves both API hosts to the others).
 */
async function masterBesideAnApi(ctx: FaultContext, run: Recorder, hosts: HostControl) {
  const found = await masterHost(ctx, hosts);
  const apiHosts = await Promise.all((await ctx.deployment.apis()).map((api) => hosts.hostOf(api.name)));
  if (apiHosts.includes(found.host)) return found;
  const [sentinel] = await ctx.deployment.sentinels();
  if (!sentinel) throw new Error('no Sentinel');
  run.act(`SENTINEL FAILOVER: ${found.host} runs no API instance; move the master to a host that does`);
  await command(sentinel.host, sentinel.port, ctx.deployment.sentinelAuth, [
    'SENTINEL',
    'FAILOVER',
    ctx.deployment.masterName,
  ]);
  const promoted = await ctx.deployment.waitForFailover(found.master.name, ctx.failoverWaitMs);
  await ctx.deployment.waitForReplicaOf(found.master.name, promoted.name, ctx.failoverWaitMs);
  run.act(`the master is ${promoted.name}; the cut starts now`);
  run.faultAt = Date.now();
  return { master: promoted, host: await hosts.hostOf(promoted.name) };
}

/** Until two API instances run on live hosts again (Swarm moved the lost one), or a note. */
async function apisBack(ctx: FaultContext, run: Recorder, hosts: HostControl): Promise<void> {
  try {
    await waitFor('two ready API instances', RESCHEDULE_TIMEOUT_MS, async () => {
      const apis = await ctx.deployment.apis();
      const ready = await Promise.all(
        apis.map((api) =>
          fetch(`${api.url}/health/ready`, { signal: AbortSignal.timeout(1000) }).then(
            (res) => res.status === 200,
            () => false,
          ),
        ),
      );
      if (ready.filter(Boolean).length < 2) throw new Error(`${ready.filter(Boolean).length} ready`);
    });
    const where = await Promise.all((await ctx.deployment.apis()).map((api) => hosts.hostOf(api.name)));
    run.act(`two API instances ready (on ${where.join(', ')}), ${run.since()} after the fault`);
  } catch (err) {
    run.notes.push(`the API instances were not back: ${(err as Error).message}`);
  }
}

async function rejoined(ctx: FaultContext, run: Recorder, old: Member, master: Member): Promise<void> {
  await ctx.deployment.waitForReplicaOf(old.name, master.name, ctx.failoverWaitMs).then(
    () => run.act(`${old.name} replicates ${master.name}, ${run.since()} after the fault`),
    (err: Error) => run.notes.push(`${old.name} did not rejoin ${master.name}: ${err.message}`),
  );
}

/**
 * Runs the fault while the orchestrator's task list is polled: every change (a task gone, a task started) is an
 * action of the report, `Swarm: +api@node-3 -api@node-1`.
 */
async function watched(ctx: FaultContext, run: Recorder, fault: (hosts: HostControl) => Promise<void>) {
  const hosts = hostsOf(ctx);
  let last = await hosts.placement().catch(() => undefined);
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      await sleep(PLACEMENT_POLL_MS);
      const now = await hosts.placement().catch(() => undefined);
      if (!now || !last) {
        last ??= now;
        continue;
      }
      const added = now.filter((t) => !last?.includes(t)).map((t) => `+${t}`);
      const removed = last.filter((t) => !now.includes(t)).map((t) => `-${t}`);
      if (added.length + removed.length > 0 && run.faultAt) run.act(`Swarm: ${[...added, ...removed].join(' ')}`);
      last = now;
    }
  })();
  try {
    await fault(hosts);
  } finally {
    watching = false;
    await watcher;
  }
}
