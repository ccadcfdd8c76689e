import type { Address } from '../../src/redis/failover-fence.js';
import type { TopologyProcess } from '../processes/redis.js';
import { command, pairs } from '../helpers/redis-probe.js';
import { waitFor } from '../helpers/wait.js';
import type { ResolvedTopologyOptions } from './options.js';

// One notion of a host:port, the service's (src/redis/failover-fence.ts).
export type { Address } from '../../src/redis/failover-fence.js';

/** What the probes need of a running topology. */
export interface ProbeContext {
  options: ResolvedTopologyOptions;
  nodes: TopologyProcess[];
  sentinels: TopologyProcess[];
  /** Why to stop waiting at once (the topology stopped), if any. */
  halted: () => Error | undefined;
}

/** One command to a node or Sentinel, bounded (redis-probe.ts). */
export function ask(ctx: ProbeContext, p: TopologyProcess, args: [string, ...string[]]): Promise<unknown> {
  return command(ctx.options.host, p.port, p.auth, args);
}

/** Retries check until it resolves (wait.ts); fails at once if a watched process died or the topology stopped. */
export function poll<T>(
  ctx: ProbeContext,
  what: string,
  deadline: number,
  watched: TopologyProcess[],
  check: () => Promise<T>,
): Promise<T> {
  const halted = () => ctx.halted() ?? watched.find((p) => p.process.crash)?.process.crash;
  return waitFor(what, Math.max(0, deadline - Date.now()), check, halted);
}

// The master is whichever node says so: after a persisted restart it need not be the first port.
export function waitForReplication(ctx: ProbeContext, deadline: number): Promise<TopologyProcess> {
  const { nodes } = ctx;
  const logs = nodes.map((p) => p.files.log).join(', ');
  const what = `one master with every other node as an online replica (logs: ${logs})`;
  return poll(ctx, what, deadline, nodes, async () => {
    const roles = await Promise.all(nodes.map((p) => ask(ctx, p, ['ROLE'])));
    const masters = nodes.filter((_, i) => Array.isArray(roles[i]) && roles[i][0] === 'master');
    const [master] = masters;
    if (!master || masters.length > 1) {
      throw new Error(`ROLE says ${nodes.map((p, i) => `${p.files.name}: ${JSON.stringify(roles[i])}`).join('; ')}`);
    }
    // The master's own view counts: min-replicas-to-write needs replicas it sees online.
    const info = String(await ask(ctx, master, ['INFO', 'replication']));
    const online = new Set([...info.matchAll(/^slave\d+:.*\bport=(\d+),state=online/gm)].map((m) => Number(m[1])));
    const missing = nodes.filter((p) => p !== master && !online.has(p.port));
    if (missing.length > 0) {
      throw new Error(`${master.files.name} has no online replica ${missing.map((p) => p.files.name).join(', ')}`);
    }
    return master;
  });
}

/**
 * Waits until the Sentinel sees the master, every running replica (ctx.nodes) linked to it, and every other
 * Sentinel. A replica it remembers but that does not run (a degraded start) may stay in its list, down.
 */
export async function waitForSentinel(
  ctx: ProbeContext,
  p: TopologyProcess,
  master: TopologyProcess,
  deadline: number,
): Promise<void> {
  const watched = [...ctx.nodes, ...ctx.sentinels];
  await p.process.waitUntilReady(Math.max(0, deadline - Date.now()), ctx.halted);
  const want: Record<string, string> = {
    ip: ctx.options.host,
    port: String(master.port),
    flags: 'master',
    'num-other-sentinels': String(ctx.sentinels.length - 1),
  };
  const replicas = ctx.nodes.filter((n) => n !== master).map((n) => String(n.port));
  const wanted = Object.entries(want)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const what = `${p.files.name} to see ${wanted} and replicas ${replicas.join(', ')} (log: ${p.files.log})`;
  await poll(ctx, what, deadline, watched, async () => {
    const fields = pairs(await ask(ctx, p, ['SENTINEL', 'MASTER', ctx.options.masterName]));
    const wrong = Object.keys(want).filter((k) => fields[k] !== want[k]);
    if (wrong.length > 0) throw new Error(`it sees ${wrong.map((k) => `${k}=${fields[k]}`).join(' ')}`);
    const listed = (await ask(ctx, p, ['SENTINEL', 'REPLICAS', ctx.options.masterName])) as unknown[];
    const healthy = new Set(
      listed.map(pairs).flatMap((r) => (r.flags === 'slave' && r['master-link-status'] === 'ok' ? [r.port] : [])),
    );
    const missing = replicas.filter((port) => !healthy.has(port));
    if (missing.length > 0) throw new Error(`it does not yet see replicas ${missing.join(', ')} linked to the master`);
  });
}

/** The master as this Sentinel names it. */
export async function sentinelMaster(ctx: ProbeContext, p: TopologyProcess): Promise<Address> {
  const { masterName } = ctx.options;
  const reply = await ask(ctx, p, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]);
  if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`it does not know master ${masterName}`);
  return { host: String(reply[0]), port: Number(reply[1]) };
}

/** Waits until every running Sentinel names the same master, other than the old one. */
export function waitForFailover(ctx: ProbeContext, oldMasterPort: number, timeoutMs: number): Promise<Address> {
  const sentinels = ctx.sentinels.filter((p) => p.process.answers);
  const old = `${ctx.options.host}:${oldMasterPort}`;
  const what = `every running Sentinel to name one master other than ${old}`;
  return poll(ctx, what, Date.now() + timeoutMs, sentinels, async () => {
    const named = await Promise.all(sentinels.map((p) => sentinelMaster(ctx, p)));
    const addresses = new Set(named.map(({ host, port }) => `${host}:${port}`));
    const [first] = named;
    if (!first || addresses.has(old) || addresses.size > 1) {
      throw new Error(`they name ${[...addresses].join(', ') || 'nothing'}`);
    }
    return first;
  });
}

/** Waits until the node's ROLE says it replicates masterPort with the link up. */
export async function waitForReplicaOf(ctx: ProbeContext, p: TopologyProcess, masterPort: number, timeoutMs: number) {
  const what = `${p.files.name} to replicate port ${masterPort} with the link up (log: ${p.files.log})`;
  await poll(ctx, what, Date.now() + timeoutMs, [p], async () => {
    const role = await ask(ctx, p, ['ROLE']);
    // A replica's ROLE: ['slave', masterHost, masterPort, 'connected' once synced, offset].
    if (!Array.isArray(role) || role[0] !== 'slave' || Number(role[2]) !== masterPort || role[3] !== 'connected') {
      throw new Error(`ROLE says ${JSON.stringify(role)}`);
    }
  });
}
