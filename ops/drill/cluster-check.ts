import { command, pairs } from '../../stack/redis-probe.js';
import { adminAuth, sentinelAuth } from '../../stack/redis-users.js';
import type { LocalStack } from '../../stack/stack.js';
import { waitFor } from '../../stack/wait.js';
import { request } from './http.js';

export interface ClusterView {
  /** The one node that says ROLE master, when exactly one does. */
  masterPort: number | undefined;
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
export async function clusterView(stack: LocalStack, check: ClusterCheck): Promise<ClusterView> {
  const { host, redisPorts, sentinelPorts, masterName } = stack.config;
  const secrets = stack.credentials.redis;
  const problems: string[] = [];
  const roles = await Promise.all(
    redisPorts.map(async (port) => ({
      port,
      role: await command(host, port, adminAuth(secrets), ['ROLE']).catch((err: Error) => err),
    })),
  );
  for (const { port, role } of roles) if (role instanceof Error) problems.push(`redis-${port}: ${role.message}`);
  const masters = roles.filter(({ role }) => Array.isArray(role) && role[0] === 'master');
  const master = masters.length === 1 ? masters[0] : undefined;
  if (!master) {
    problems.push(`${masters.length} nodes say ROLE master (${masters.map((m) => `redis-${m.port}`).join(', ')})`);
  }

  for (const port of sentinelPorts) {
    const named = await command(host, port, sentinelAuth(secrets), ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName])
      .then((reply) => (Array.isArray(reply) ? Number(reply[1]) : undefined))
      .catch((err: Error) => err);
    if (named instanceof Error) {
      problems.push(`sentinel-${port}: ${named.message}`);
      continue;
    }
    if (master && named !== master.port) problems.push(`sentinel-${port} names port ${named}, not ${master.port}`);
    if (check.quietSentinels) {
      problems.push(...(await sentinelDoubts(stack, port).catch((err: Error) => [`sentinel-${port}: ${err.message}`])));
    }
  }

  if (master && Array.isArray(master.role)) {
    const masterOffset = Number(master.role[1]);
    for (const { port, role } of roles) {
      if (port === master.port || !Array.isArray(role)) continue;
      // A replica's ROLE: ['slave', masterHost, masterPort, 'connected' once synced, offset].
      const [kind, , ofPort, link, offset] = role.map(String);
      if (kind !== 'slave' || Number(ofPort) !== master.port || link !== 'connected') {
        problems.push(`redis-${port} is not a connected replica of ${master.port}: ROLE ${JSON.stringify(role)}`);
      } else if (check.offsets && Number(offset) !== masterOffset) {
        problems.push(`redis-${port} at replication offset ${offset}, the master at ${masterOffset}`);
      }
    }
  }
  return { masterPort: master?.port, problems };
}

/** What one Sentinel still doubts or is still doing about the master and its replicas. */
async function sentinelDoubts(stack: LocalStack, port: number): Promise<string[]> {
  const { host, masterName } = stack.config;
  const ask = (...args: [string, ...string[]]) => command(host, port, sentinelAuth(stack.credentials.redis), args);
  const doubts: string[] = [];
  const master = pairs(await ask('SENTINEL', 'MASTER', masterName));
  if (master.flags !== 'master') doubts.push(`sentinel-${port} flags the master ${master.flags}`);
  const replicas = await ask('SENTINEL', 'REPLICAS', masterName);
  // Flags only: Sentinel refreshes a replica's INFO (its role, its master) every 10 s; ROLE on the node says it now.
  for (const { name, flags } of Array.isArray(replicas) ? replicas.map(pairs) : []) {
    if (flags !== 'slave') doubts.push(`sentinel-${port} flags replica ${name} ${flags}`);
  }
  if (/^sentinel_tilt:1/m.test(String(await ask('INFO', 'sentinel')))) doubts.push(`sentinel-${port} is in TILT mode`);
  return doubts;
}

/**
 * Every API instance answers /health/ready with 200, and every one of its Redis clients (body.redis.clients:
 * name → ioredis status) is "ready": an instance whose client died for good must not pass. NGINX passes its
 * own readiness probe (its /health and a route through an instance).
 */
export async function readinessProblems(stack: LocalStack): Promise<string[]> {
  const apiProblems = Promise.all(
    stack.config.apiPorts.map(async (port, i) => {
      const name = `api-${port}`;
      const answer = await request(stack.apiUrl(i), 'GET', '/health/ready', { timeoutMs: HEALTH_TIMEOUT_MS });
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
  return [...(await apiProblems).flat(), ...(await nginxProblems(stack))];
}

async function nginxProblems(stack: LocalStack): Promise<string[]> {
  const { nginx } = stack;
  if (!nginx) return [];
  // Checked apart from the probe: the workers of a killed NGINX master live on, and still answer.
  if (!nginx.running) return [`${nginx.spec.name}: not running`];
  return nginx.spec.ready().then(
    () => [],
    (err: Error) => [`${nginx.spec.name}: ${err.message}`],
  );
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
