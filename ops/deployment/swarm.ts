import { randomBytes } from 'node:crypto';
import { command } from '../../stack/helpers/redis-probe.js';
import { adminAuth, sentinelAuth, type RedisAuth } from '../../stack/helpers/redis-users.js';
import { waitFor } from '../../stack/helpers/wait.js';
import { swarmDown } from '../../swarm/down.js';
import { NODE_HTTP_PORT, nodeAddress, nodeIndexes, STACK } from '../../swarm/layout.js';
import { containerState, nodeDocker, runningTasks } from '../../swarm/node-docker.js';
import { readSwarmRecord, type SwarmRecord } from '../../swarm/state.js';
import { swarmUp } from '../../swarm/up.js';
import { waitConverged } from '../../swarm/wait.js';
import {
  masterBySentinels,
  waitForReplicaByRole,
  waitForSentinelsToSwitch,
  type Capability,
  type Deployment,
  type Member,
} from './deployment.js';
import { SwarmHosts } from './swarm-hosts.js';

const NODE_PORT = 6379;
const SENTINEL_PORT = 26379;
const API_PORT = 3000;
const HOST_START_TIMEOUT_MS = 120_000;

export interface SwarmStartOptions {
  purpose: string;
  nodes: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
  /** Variables the stack passes to the API instances (LOG_LEVEL, RATE_LIMIT_MAX, …). */
  apiEnv: Record<string, string>;
  keep: boolean;
  log: (msg: string) => void;
}

/**
 * Evergreen on a swarm of Docker-in-Docker nodes (swarm/) as a Deployment: Redis node i and Sentinel i on node i,
 * reached on the node's address (their ports are published there), API instances wherever Swarm runs them.
 * Members are paused inside their node (docker pause of the task's container); a killed member is restarted by
 * Swarm at once, so the faults that need one to stay down are refused. The hosts themselves are the faults:
 * a node container killed (power lost), paused (frozen), cut off by iptables inside it, drained.
 */
export class SwarmDeployment implements Deployment {
  readonly kind = 'swarm';
  readonly apiRunner = 'the evergreen-api image, from the registry';
  readonly verbs = { pause: 'docker pause', resume: 'docker unpause' };
  static readonly CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>(['hosts']);
  readonly capabilities = SwarmDeployment.CAPABILITIES;
  readonly hosts: SwarmHosts;

  constructor(
    readonly record: SwarmRecord,
    readonly downAfterMs: number,
    readonly failoverTimeoutMs: number,
    private readonly onStop: () => Promise<void>,
  ) {
    this.hosts = new SwarmHosts(record);
  }

  get where(): string {
    return `swarm ${this.record.name} (${this.record.nodes} nodes)`;
  }
  get publicUrl(): string {
    return `http://127.0.0.1:${this.record.httpPort}`;
  }
  get admin() {
    return this.record.admin;
  }
  get redisAdmin(): RedisAuth {
    return adminAuth(this.record.redis);
  }
  get sentinelAuth(): RedisAuth {
    return sentinelAuth(this.record.redis);
  }
  readonly keyPrefix = 'eg:';
  readonly masterName = 'evergreen';

  async nodes(): Promise<Member[]> {
    const r = this.record;
    return nodeIndexes(r).map((i) => ({ name: `redis-${i}`, host: nodeAddress(r, i), port: NODE_PORT }));
  }
  async sentinels(): Promise<Member[]> {
    const r = this.record;
    return nodeIndexes(r).map((i) => ({ name: `sentinel-${i}`, host: nodeAddress(r, i), port: SENTINEL_PORT }));
  }
  /** Each running API task, named by its host (api@evergreen-node-2), at that host's published port. */
  async apis(): Promise<(Member & { url: string })[]> {
    const tasks = (await runningTasks(this.record, STACK)).filter((t) => t.service === 'api');
    return tasks
      .map((t) => {
        const host = nodeAddress(this.record, this.indexOf(t.node));
        return { name: `api@${t.node}`, host, port: API_PORT, url: `http://${host}:${API_PORT}` };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  master(): Promise<Member> {
    return masterBySentinels(this);
  }
  /** Sentinels and replicas name nodes by their service names (announce-hostnames). */
  async nodeAt(host: string): Promise<Member | undefined> {
    return (await this.nodes()).find((n) => n.name === host || n.host === host);
  }

  pause(name: string): Promise<void> {
    return this.inTask(name, 'pause');
  }
  resume(name: string): Promise<void> {
    return this.inTask(name, 'unpause');
  }
  /** Swarm restarts a killed task by itself (restart_policy any): kill, then start waits for it to answer. */
  async kill(name: string, signal: NodeJS.Signals): Promise<void> {
    await this.inTask(name, 'kill', ['--signal', signal]);
  }
  async start(name: string): Promise<void> {
    await waitFor(`${name} to answer`, HOST_START_TIMEOUT_MS, async () => {
      const member = [...(await this.nodes()), ...(await this.sentinels())].find((m) => m.name === name);
      if (!member) throw new Error(`no ${name}`);
      const auth = name.startsWith('sentinel-') ? this.sentinelAuth : this.redisAdmin;
      await command(member.host, member.port, auth, ['PING']);
    });
  }
  waitForFailover(old: string, timeoutMs: number): Promise<Member> {
    return waitForSentinelsToSwitch(this, old, timeoutMs);
  }
  waitForReplicaOf(name: string, master: string, timeoutMs: number): Promise<void> {
    return waitForReplicaByRole(this, name, master, timeoutMs);
  }
  restartWhole(): Promise<void> {
    return Promise.reject(new Error('a swarm is not restarted whole'));
  }

  /** Every node running, unpaused, connected and active; then every service runs all its tasks again. */
  async bringBack(): Promise<string[]> {
    const problems: string[] = [];
    for (const host of this.hosts.hosts()) {
      try {
        const state = await containerState(host);
        if (state !== 'running' && state !== 'paused') await this.hosts.start(host);
        await this.hosts.thaw(host);
        await this.hosts.reconnect(host);
        await this.hosts.activate(host);
      } catch (err) {
        problems.push(`bringing back ${host}: ${(err as Error).message}`);
      }
    }
    await waitConverged(this.record, () => undefined, HOST_START_TIMEOUT_MS).catch((err: Error) =>
      problems.push(err.message),
    );
    return problems;
  }

  /** The edge answers /health, and so does every node's own NGINX. */
  async edgeProblems(): Promise<string[]> {
    const urls = [
      this.publicUrl,
      ...nodeIndexes(this.record).map((i) => `http://${nodeAddress(this.record, i)}:${NODE_HTTP_PORT}`),
    ];
    const problems = await Promise.all(
      urls.map(async (url) => {
        const answer = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).catch((err: Error) => err);
        if (answer instanceof Error) return `nginx at ${url}: ${answer.message}`;
        return answer.status === 200 ? undefined : `nginx at ${url}: /health answered ${answer.status}`;
      }),
    );
    return problems.filter((p): p is string => p !== undefined);
  }

  stop(): Promise<void> {
    return this.onStop();
  }

  private indexOf(host: string): number {
    const index = this.hosts.hosts().indexOf(host);
    if (index < 0) throw new Error(`${host} is not a node of ${this.record.name}`);
    return index + 1;
  }

  /** docker ACTION of a member's task container, inside the node that runs it. */
  private async inTask(name: string, action: string, args: string[] = []): Promise<void> {
    const host = await this.hosts.hostOf(name);
    const service = name.startsWith('api@') ? 'api' : name;
    const filter = `label=com.docker.swarm.service.name=${STACK}_${service}`;
    const id = (await nodeDocker(host, ['ps', '--quiet', '--filter', filter])).split('\n')[0];
    if (!id) throw new Error(`no running task of ${service} on ${host}`);
    await nodeDocker(host, [action, ...args, id]);
  }
}

/**
 * A swarm of a tool's own (npm run swarm's runtime: nodes, registry, stack, edge) under a unique name, handed over
 * as a Deployment whose stop() removes it (unless kept). Rejects, having removed what it made, when it cannot start.
 */
export async function startSwarmDeployment(opts: SwarmStartOptions): Promise<SwarmDeployment> {
  const name = `evergreen-${opts.purpose}-${randomBytes(3).toString('hex')}`;
  const layout = { name, nodes: opts.nodes, prefix: '' };
  let stopping: Promise<void> | undefined;
  const stop = (record: SwarmRecord) =>
    (stopping ??= opts.keep
      ? Promise.resolve(opts.log(`kept the swarm ${name} (SWARM_NAME=${name} npm run swarm -- down)`))
      : swarmDown(record, opts.log));
  let record: SwarmRecord | undefined;
  try {
    record = await swarmUp({
      name,
      nodes: opts.nodes,
      monitoring: false,
      adminUsername: `${opts.purpose}-admin`,
      stackEnv: {
        ...opts.apiEnv,
        SENTINEL_DOWN_AFTER_MS: String(opts.downAfterMs),
        SENTINEL_FAILOVER_TIMEOUT_MS: String(opts.failoverTimeoutMs),
      },
      log: opts.log,
    });
  } catch (err) {
    const made = await readSwarmRecord(name);
    if (made) await swarmDown(made, opts.log).catch(() => undefined);
    else await swarmDown({ ...layout }, opts.log).catch(() => undefined);
    throw err;
  }
  const started = record;
  return new SwarmDeployment(started, opts.downAfterMs, opts.failoverTimeoutMs, () => stop(started));
}
