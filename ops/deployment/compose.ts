import { setTimeout as sleep } from 'node:timers/promises';
import type { StackConfig } from '../../stack/config.js';
import { assertDockerReachable } from '../../stack/compose/docker-cli.js';
import { ComposeProject } from '../../stack/compose/project.js';
import { command } from '../../stack/helpers/redis-probe.js';
import {
  adminAuth,
  sentinelAuth,
  SECRET_VARIABLES,
  type RedisAuth,
  type RedisSecrets,
} from '../../stack/helpers/redis-users.js';
import { waitFor } from '../../stack/helpers/wait.js';
import {
  ComposeContainers,
  docker,
  findNode,
  NODE_PORT,
  projectContainers,
  SENTINEL_PORT,
  type Container,
} from './compose-containers.js';
import {
  masterBySentinels,
  waitForReplicaByRole,
  waitForSentinelsToSwitch,
  type Capability,
  type Deployment,
  type Member,
} from './deployment.js';

const API_PORT = 3000;
const POLL_MS = 250;
const START_TIMEOUT_MS = 60_000;
const SERVICE = { node: /^redis-\d+$/, sentinel: /^sentinel-\d+$/, api: /^api-\d+$/ };

/** What a Compose deployment runs with, known to whoever started it (compose.yml's variables). */
export interface ComposeSettings {
  publicUrl: string;
  admin: { username: string; password: string };
  /** The operators' Redis user on every node. */
  redisAdmin: RedisAuth;
  /** What its Sentinels ask of a client. */
  sentinelAuth: RedisAuth;
  keyPrefix: string;
  masterName: string;
  downAfterMs: number;
  failoverTimeoutMs: number;
}

/**
 * A Compose project of compose.yml as a Deployment: members are its services (redis-1, sentinel-1, api-1),
 * reached on their container addresses (a Docker host routes to its bridge networks); faults are docker
 * pause / unpause / kill / start of a container. A SIGKILL from outside the engine would meet Compose's own
 * restart policy, not a supervisor of the drill's: the crash faults are the local stack's. A tool starts a
 * project of its own (compose-start.ts), or attaches to one that runs already (attach).
 */
export class ComposeDeployment implements Deployment {
  readonly kind = 'compose';
  readonly apiRunner = 'the evergreen-api image';
  readonly verbs = { pause: 'docker pause', resume: 'docker unpause' };
  /** Known before a project is started, so that a drill refuses a fault it cannot inject up front. */
  static readonly CAPABILITIES: ReadonlySet<Capability> = new Set<Capability>(['restart-whole', 'hold-down']);
  readonly capabilities = ComposeDeployment.CAPABILITIES;

  constructor(
    readonly project: ComposeProject,
    private readonly settings: ComposeSettings,
    /** Takes the project down (or leaves it, when asked to keep it). */
    private readonly onStop: () => Promise<void>,
  ) {}

  /**
   * A project that runs already on this engine, found by name (backup and restore: they did not start it, so
   * stop() leaves it running). What it runs with comes from the config, which reads the environment and .env as
   * Compose does: the two passwords the tools sign in with (only those), the master name, the key prefix, the
   * Sentinels' timings, HTTP_PORT (where compose.yml publishes NGINX), and the API's admin if ADMIN_* name one.
   */
  static async attach(project: string, config: StackConfig): Promise<ComposeDeployment> {
    const needed: (keyof RedisSecrets)[] = ['admin', 'sentinels'];
    const missing = needed.filter((key) => !config.redisSecrets[key]).map((key) => SECRET_VARIABLES[key]);
    if (missing.length > 0) {
      throw new Error(
        `${missing.join(' and ')} must be set (in the environment or .env) to what the Compose project ` +
          `"${project}" runs with: backup and restore sign in to its Sentinels and to its nodes as user admin.`,
      );
    }
    await assertDockerReachable();
    await ComposeContainers.find(project); // fails naming the projects this engine has
    // adminAuth and sentinelAuth read only the two passwords checked above.
    const secrets = config.redisSecrets as RedisSecrets;
    const settings: ComposeSettings = {
      publicUrl: `http://127.0.0.1:${config.httpPort}`,
      // compose.yml seeds an admin only when both are set; a tool that never signs in never asks.
      get admin() {
        if (config.admin) return config.admin;
        throw new Error(
          `the API admin of the Compose project "${project}" is not known: set ADMIN_USERNAME and ` +
            'ADMIN_PASSWORD (in the environment or .env) to what it runs with',
        );
      },
      redisAdmin: adminAuth(secrets),
      sentinelAuth: sentinelAuth(secrets),
      keyPrefix: config.keyPrefix,
      masterName: config.masterName,
      downAfterMs: config.downAfterMs,
      failoverTimeoutMs: config.failoverTimeoutMs,
    };
    // No variables: the deployment uses only the project's name, and nothing brings it up or down.
    return new ComposeDeployment(new ComposeProject(project, {}), settings, async () => {});
  }

  /** The project's name. */
  get where(): string {
    return this.project.name;
  }
  get publicUrl(): string {
    return this.settings.publicUrl;
  }
  get admin() {
    return this.settings.admin;
  }
  get redisAdmin(): RedisAuth {
    return this.settings.redisAdmin;
  }
  get sentinelAuth(): RedisAuth {
    return this.settings.sentinelAuth;
  }
  get keyPrefix(): string {
    return this.settings.keyPrefix;
  }
  get masterName(): string {
    return this.settings.masterName;
  }
  get downAfterMs(): number {
    return this.settings.downAfterMs;
  }
  get failoverTimeoutMs(): number {
    return this.settings.failoverTimeoutMs;
  }

  nodes(): Promise<Member[]> {
    return this.members(SERVICE.node, NODE_PORT);
  }
  sentinels(): Promise<Member[]> {
    return this.members(SERVICE.sentinel, SENTINEL_PORT);
  }
  async apis(): Promise<(Member & { url: string })[]> {
    const apis = await this.members(SERVICE.api, API_PORT);
    return apis.map((api) => ({ ...api, url: `http://${api.host}:${api.port}` }));
  }

  master(): Promise<Member> {
    return masterBySentinels(this);
  }

  async nodeAt(host: string): Promise<Member | undefined> {
    const nodes = (await projectContainers(this.project.name)).filter((c) => SERVICE.node.test(c.service));
    const found = findNode(nodes, host);
    return found && member(found, NODE_PORT);
  }

  async pause(name: string): Promise<void> {
    await docker(['pause', await this.id(name)]);
  }
  async resume(name: string): Promise<void> {
    await docker(['unpause', await this.id(name)]);
  }
  /** `docker kill`: the engine counts it as stopped by hand, so the restart policy leaves it down. */
  async kill(name: string, signal: NodeJS.Signals): Promise<void> {
    const id = await this.id(name);
    await docker(['kill', '--signal', signal, id]);
    await waitFor(`${name} to exit`, START_TIMEOUT_MS, async () => {
      if ((await this.container(name)).running) throw new Error('still running');
    });
  }
  async start(name: string): Promise<void> {
    await docker(['start', await this.id(name)]);
    await waitFor(`${name} to answer`, START_TIMEOUT_MS, () => this.answers(name));
  }

  waitForFailover(old: string, timeoutMs: number): Promise<Member> {
    return waitForSentinelsToSwitch(this, old, timeoutMs);
  }

  waitForReplicaOf(name: string, master: string, timeoutMs: number): Promise<void> {
    return waitForReplicaByRole(this, name, master, timeoutMs);
  }

  /**
   * `docker-compose stop` (in reverse order of depends_on), then `up` of the same services on the same containers
   * and volumes, in depends_on order, until each is healthy: what an operator's stop and start of a host does.
   */
  async restartWhole(stopped: (ms: number) => void): Promise<void> {
    const services = [...new Set((await projectContainers(this.project.name)).map((c) => c.service))];
    const stopping = Date.now();
    await this.project.compose(['stop']);
    stopped(Date.now() - stopping);
    await this.project.compose(['up', '--detach', '--no-build', ...services]);
    await this.project.waitHealthy(services);
  }

  /** Unpauses what is paused and starts what is stopped: NGINX, the API instances, the nodes, the Sentinels. */
  async bringBack(): Promise<string[]> {
    const problems: string[] = [];
    const wanted = (c: Container) => Object.values(SERVICE).some((re) => re.test(c.service)) || c.service === 'nginx';
    for (const c of (await projectContainers(this.project.name)).filter(wanted)) {
      try {
        if (c.paused) await this.resume(c.service);
        else if (!c.running) await this.start(c.service);
      } catch (err) {
        problems.push(`bringing back ${c.service}: ${(err as Error).message}`);
      }
    }
    return problems;
  }

  /** NGINX's container runs, unpaused, and its /health answers 200 on the published port. */
  async edgeProblems(): Promise<string[]> {
    const nginx = await this.container('nginx').catch(() => undefined);
    if (!nginx?.running || nginx.paused) return [`nginx: ${nginx?.paused ? 'paused' : 'not running'}`];
    const answer = await fetch(`${this.publicUrl}/health`, { signal: AbortSignal.timeout(2000) }).catch(
      (err: Error) => err,
    );
    if (answer instanceof Error) return [`nginx: /health: ${answer.message}`];
    return answer.status === 200 ? [] : [`nginx: /health answered ${answer.status}`];
  }

  stop(): Promise<void> {
    return this.onStop();
  }

  /** The services that match, in order, at their addresses now (a container started again may get another). */
  private async members(service: RegExp, port: number): Promise<Member[]> {
    const found = (await projectContainers(this.project.name)).filter((c) => service.test(c.service));
    return found
      .sort((a, b) => a.service.localeCompare(b.service, 'en', { numeric: true }))
      .map((c) => member(c, port));
  }

  /** A Redis node or Sentinel answers PING, an API instance its /health/live. */
  private async answers(name: string): Promise<void> {
    const c = await this.container(name);
    if (!c.running || !c.ip) throw new Error('not running');
    if (SERVICE.api.test(name)) {
      const answer = await fetch(`http://${c.ip}:${API_PORT}/health/live`, { signal: AbortSignal.timeout(1000) });
      if (answer.status !== 200) throw new Error(`/health/live answered ${answer.status}`);
    } else if (SERVICE.node.test(name)) await command(c.ip, NODE_PORT, this.redisAdmin, ['PING']);
    else if (SERVICE.sentinel.test(name)) await command(c.ip, SENTINEL_PORT, this.sentinelAuth, ['PING']);
    else await sleep(POLL_MS);
  }

  private async container(name: string): Promise<Container> {
    const found = (await projectContainers(this.project.name)).find((c) => c.service === name);
    if (!found) throw new Error(`${this.project.name} has no ${name}`);
    return found;
  }

  private async id(name: string): Promise<string> {
    return (await this.container(name)).id;
  }
}

/** A container as a member: its address while it runs, else its service name (only its network resolves it). */
const member = (c: Container, port: number): Member => ({ name: c.service, host: c.ip ?? c.service, port });
