import { command } from '../stack/helpers/redis-probe.js';
import { sentinelAuth } from '../stack/helpers/redis-users.js';
import { NODE_HTTP_PORT, nodeAddress, nodeContainer, nodeIndexes, STACK } from './layout.js';
import { askManagers, containerState, runningTasks, type TaskRow } from './node-docker.js';
import type { SwarmRecord } from './state.js';

export interface NodeStatus {
  /** The node's name in the swarm (its container's host name). */
  name: string;
  container: string;
  /** The container as this machine's engine sees it: running, paused, exited, missing. */
  state: string;
  /** As the swarm's managers see it (unknown when none answers). */
  role: string;
  availability: string;
  status: string;
  /** This node's own NGINX, as reachable from this machine. */
  url: string;
  services: string[];
}

export interface SwarmStatus {
  url: string;
  nodes: NodeStatus[];
  /** The Redis node the Sentinels name master now, and the node it runs on. */
  master: { service: string; node: string } | null;
  problems: string[];
}

/** What `npm run swarm -- status` prints; it answers while a node is dead, frozen or cut off. */
export async function swarmStatus(r: SwarmRecord): Promise<SwarmStatus> {
  const problems: string[] = [];
  const [views, tasks, master] = await Promise.all([
    nodeViews(r).catch((err: Error) => (problems.push(err.message), new Map<string, string[]>())),
    runningTasks(r, STACK).catch((err: Error) => (problems.push(err.message), [] as TaskRow[])),
    masterBySentinels(r).catch((err: Error) => (problems.push(err.message), null)),
  ]);
  const nodes = await Promise.all(
    nodeIndexes(r).map(async (i): Promise<NodeStatus> => {
      const name = nodeContainer(r, i);
      const [status = 'unknown', availability = 'unknown', role = 'unknown'] = views.get(name) ?? [];
      const services = tasks.filter((t) => t.node === name && t.state.startsWith('Running')).map((t) => t.service);
      return {
        name,
        container: name,
        state: await containerState(name),
        role,
        availability,
        status,
        url: `http://${nodeAddress(r, i)}:${NODE_HTTP_PORT}`,
        services: services.sort(),
      };
    }),
  );
  return { url: `http://127.0.0.1:${r.httpPort}`, nodes, master, problems };
}

/** docker node ls, as the first manager that answers sees it: name → [status, availability, role]. */
async function nodeViews(r: SwarmRecord): Promise<Map<string, string[]>> {
  const format = '{{.Hostname}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}';
  const out = await askManagers(r, ['node', 'ls', '--format', format]);
  const views = new Map<string, string[]>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [host = '', status = '', availability = '', manager = ''] = line.split('|');
    views.set(host, [
      status.toLowerCase(),
      availability.toLowerCase(),
      manager ? `manager (${manager.toLowerCase()})` : 'worker',
    ]);
  }
  return views;
}

/** The master most answering Sentinels name (each node's Sentinel on its published port). */
async function masterBySentinels(r: SwarmRecord): Promise<{ service: string; node: string } | null> {
  const answers = await Promise.all(
    nodeIndexes(r).map(async (i) => {
      const args: [string, ...string[]] = ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'evergreen'];
      const reply = await command(nodeAddress(r, i), 26379, sentinelAuth(r.redis), args).catch(() => undefined);
      return Array.isArray(reply) ? String(reply[0]) : undefined;
    }),
  );
  const named = answers.filter((a): a is string => a !== undefined);
  if (named.length === 0) throw new Error('no Sentinel answers');
  const counts = new Map<string, number>();
  for (const a of named) counts.set(a, (counts.get(a) ?? 0) + 1);
  const [service = ''] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  const index = Number(/^redis-(\d+)$/.exec(service)?.[1]);
  return { service, node: Number.isInteger(index) ? nodeContainer(r, index) : 'unknown' };
}

/** The status as text: one line per node, then the master. */
export function statusLines(s: SwarmStatus): string[] {
  const lines = [`Evergreen on Swarm: ${s.url}`];
  for (const n of s.nodes) {
    const columns = [n.name.padEnd(22), n.state.padEnd(8), n.status.padEnd(8), n.role.padEnd(22), n.availability];
    lines.push(`${columns.join(' ')} ${n.url}`);
    lines.push(`${''.padEnd(22)} ${n.services.join(', ') || '(no task)'}`);
  }
  lines.push(
    s.master ? `master: ${s.master.service} on ${s.master.node} (as the Sentinels name it)` : 'master: unknown',
  );
  for (const p of s.problems) lines.push(`! ${p}`);
  return lines;
}
