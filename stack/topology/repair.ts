import type { StateLayout } from '../layout.js';
import type { TopologyProcess } from '../processes/redis.js';
import type { ResolvedTopologyOptions } from './options.js';
import {
  planRoles,
  readSavedNode,
  readSentinelView,
  setReplicaOf,
  type RolePlan,
  type SavedNode,
  type SavedSentinelView,
} from './saved-roles.js';

const roleOf = (replicaOf: number | undefined) =>
  replicaOf === undefined ? 'master' : `replica of redis-${replicaOf}`;
const savedAs = (node: SavedNode) =>
  node.dataWrittenAt === undefined ? 'new (no data)' : `saved as ${roleOf(node.replicaOf)}`;

/**
 * Before the nodes start: the master planned from what the stopped topology saved, and every other node's
 * config made a direct replica of it — a chain, a second master or a master that no longer exists is
 * repaired here, each repair logged. Returns the plan.
 */
export async function repairSavedRoles(
  o: ResolvedTopologyOptions,
  layout: StateLayout,
  nodes: TopologyProcess[],
): Promise<RolePlan> {
  const saved = await Promise.all(nodes.map((p) => readSavedNode(p.files, p.port)));
  const views = await Promise.all(o.sentinelPorts.map((port) => readSentinelView(layout.sentinel(port), o.masterName)));
  const known = views.filter((v): v is SavedSentinelView => v !== undefined);
  const plan = planRoles(o.host, saved, known);
  const anySaved = known.length > 0 || saved.some((n) => n.dataWrittenAt !== undefined);
  if (anySaved) o.log(`master: redis-${plan.master}, ${plan.why}`);
  if (plan.resetSentinels) o.log('the Sentinels start from fresh configs, monitoring it');
  for (const [i, p] of nodes.entries()) {
    const node = saved[i] as SavedNode;
    const want = p.port === plan.master ? undefined : plan.master;
    if (node.replicaOf === want) continue;
    if (anySaved) o.log(`${p.files.name}: ${savedAs(node)}; starts as ${roleOf(want)}`);
    await setReplicaOf(p.files, o.host, want);
  }
  return plan;
}

/** What a degraded start says: which nodes are down, where to look, and how to bring them back. */
export function degradedReport(down: TopologyProcess[], master: TopologyProcess): string {
  const lines = down.map((p) => `  ${p.files.name} could not start (its data may be unreadable); log: ${p.files.log}`);
  return [
    `DEGRADED: ${down.length} Redis node${down.length === 1 ? '' : 's'} down; master ${master.files.name} serves.`,
    ...lines,
    "  To repair: stop the stack, move that node's appendonlydir/ and dump.rdb aside (it then resyncs from the",
    '  master on the next start), or fix its AOF with redis-check-aof --fix; then start again.',
  ].join('\n');
}
