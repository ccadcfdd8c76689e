import { command, pairs } from '../../stack/helpers/redis-probe.js';
import { waitFor } from '../../stack/helpers/wait.js';
import type { Deployment, Member } from '../deployment/deployment.js';
import { request } from './http.js';

export interface ClusterView {
  /** The one node that says ROLE master, when exactly one does. */
  master: string | undefined;
  /** Empty when healthy; each a sentence naming the process. */
  problems: string[];
}

export interface ClusterCheck {
  /** Replicas at the master's exact replication offset (only meaningful once writes have stopped). */
  offsets: boolean;
  /**
   * Every Sentinel quiet: no doubt about the master or a replica (s_down, o_down, a failover in progress), and
   * no TILT (a paused Sentinel acts on nothing for ~30 s after it resumes).
   */
  quietSentinels: boolean;
}

const HEALTH_TIMEOUT_MS = 2000;

/**
 * The topology as the processes themselves tell it: exactly one node says ROLE master, every Sentinel
 * names it, every other node replicates it with the link up.
 */
export async function clusterView(deployment: Deployment, check: ClusterCheck): Promise<ClusterView> {
  const problems: string[] = [];
  const roles = await Promise.all(
    (await deployment.nodes()).map(async (node) => ({
      node,
      role: await command(node.host, node.port, deployment.redisAdmin, ['ROLE']).catch((err: Error) => err),
    })),
  );
  for (const { node, role } of roles) if (role instanceof Error) problems.push(`${node.name}: ${role.message}`);
  const masters = roles.filter(({ role }) => Array.isArray(role) && role[0] === 'master');
  const master = masters.length === 1 ? masters[0] : undefined;
  if (!master) {
    problems.push(`${masters.length} nodes say ROLE master (${masters.map((m) => m.node.name).join(', ')})`);
  }
  // The name of the node a Sentinel or a replica gives by host and port.
  const named = async (host: string, port: number) => (await deployment.nodeAt(host, port))?.name ?? `${host}:${port}`;

  for (const sentinel of await deployment.sentinels()) {
    const names = await command(sentinel.host, sentinel.port, deployment.sentinelAuth, [
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      deployment.masterName,
    ])
      .then((reply) => (Array.isArray(reply) ? named(String(reply[0]), Number(reply[1])) : undefined))
      .catch((err: Error) => err);
    if (names instanceof Error) {
      problems.push(`${sentinel.name}: ${names.message}`);
      continue;
    }
    if (master && names !== master.node.name) problems.push(`${sentinel.name} names ${names}, not ${master.node.name}`);
    if (check.quietSentinels) {
      const doubts = sentinelDoubts(deployment, sentinel).catch((err: Error) => [`${sentinel.name}: ${err.message}`]);
      problems.push(...(await doubts));
    }
  }

  if (master && Array.isArray(master.role)) {
    const masterOffset = Number(master.role[1]);
    for (const { node, role } of roles) {
      if (node === master.node || !Array.isArray(role)) continue;
      // A replica's ROLE: ['slave', masterHost, masterPort, 'connected' once synced, offset].
      const [kind, ofHost = '', ofPort, link, offset] = role.map(String);
      if (kind !== 'slave' || (await named(ofHost, Number(ofPort))) !== master.node.name || link !== 'connected') {
        problems.push(`${node.name} is not a connected replica of ${master.node.name}: ROLE ${JSON.stringify(role)}`);
      } else if (check.offsets && Number(offset) !== masterOffset) {
        problems.push(`${node.name} at replication offset ${offset}, the master at ${masterOffset}`);
      }
    }
  }
  return { master: master?.node.name, problems };
}

/** What one Sentinel still doubts or is still doing about the master and its replicas. */
async function sentinelDoubts(deployment: Deployment, sentinel: Member): Promise<string[]> {
  const ask = (...args: [string, ...string[]]) => command(sentinel.host, sentinel.port, deployment.sentinelAuth, args);
  const doubts: string[] = [];
  const master = pairs(await ask('SENTINEL', 'MASTER', deployment.masterName));
  if (master.flags !== 'master') doubts.push(`${sentinel.name} flags the master ${master.flags}`);
  const replicas = await ask('SENTINEL', 'REPLICAS', deployment.masterName);
  // Flags only: Sentinel refreshes a replica's INFO (its role, its master) every 10 s; ROLE on the node says it now.
  for (const { name, flags } of Array.isArray(replicas) ? replicas.map(pairs) : []) {
    if (flags !== 'slave') doubts.push(`${sentinel.name} flags replica ${name} ${flags}`);
  }
  if (/^sentinel_tilt:1/m.test(String(await ask('INFO', 'sentinel')))) doubts.push(`${sentinel.name} is in TILT mode`);
  return doubts;
}

/**
 * Every API instance answers /health/ready with 200, and every one of its Redis clients (body.redis.clients:
 * name → ioredis status) is "ready": an instance whose client died for good must not pass. The deployment's
 * edge (NGINX) passes its own checks.
 */
export async function readinessProblems(deployment: Deployment): Promise<string[]> {
  const apiProblems = Promise.all(
    (await deployment.apis()).map(async ({ name, url }) => {
      const answer = await request(url, 'GET', '/health/ready', { timeoutMs: HEALTH_TIMEOUT_MS });
      if (answer.status !== 200) {
        return [`${name}: /health/ready answered ${answer.status} ${JSON.stringify(answer.body ?? answer.code)}`];
      }
      const clients: unknown = answer.body?.redis?.clients;
      if (typeof clients !== 'object' || clients === null || Array.isArray(clients)) {
        return [`${name}: /health/ready has no redis.clients (each client's status), so a dead client cannot show`];
      }
      const notReady = Object.entries(clients).filter(([, status]) => status !== 'ready');
      if (notReady.length === 0) return [];
      const listed = notReady.map(([client, status]) => `${client} ${status}`).join(', ');
      return [`${name}: Redis clients not ready: ${listed}`];
    }),
  );
  return [...(await apiProblems).flat(), ...(await deployment.edgeProblems())];
}

/** Polls check until it finds no problem (returns []) or the time is up (returns its last problems). */
export async function settledProblems(timeoutMs: number, check: () => Promise<string[]>): Promise<string[]> {
  let last: string[] = [];
  await waitFor('no problems', timeoutMs, async () => {
    last = await check();
    if (last.length > 0) throw new Error(last.join('; '));
  }).catch(() => {});
  return last;
}
