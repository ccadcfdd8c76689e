import type { StackConfig } from '../../stack/config.js';
import { down } from '../../stack/commands/down.js';
import { up } from '../../stack/commands/up.js';
import type { Credentials } from '../../stack/helpers/credentials.js';
import { adminAuth, sentinelAuth, type RedisAuth } from '../../stack/helpers/redis-users.js';
import { runningStack } from '../../stack/helpers/state.js';
import { LocalStack, type StackOptions } from '../../stack/stack.js';
import type { Topology } from '../../stack/topology/topology.js';
import {
  masterBySentinels,
  type Capability,
  type Deployment,
  type DeploymentView,
  type DiskControl,
  type Member,
} from './deployment.js';

const REDIS = /^(redis|sentinel)-(\d+)$/;
const API = /^api-(\d+)$/;

/** What a local stack is known by: its config and credentials (a LocalStack is one, once started). */
export interface LocalStackFacts {
  readonly config: StackConfig;
  readonly credentials: Pick<Credentials, 'admin' | 'redis'>;
}

/**
 * The local stack of a config as a DeploymentView: members named by port (redis-6379, sentinel-26379, api-3001) on
 * the config's ports, the master as its Sentinels name it. It needs no handle on the processes, so it serves
 * whoever runs them: `npm start` in another process, a LocalStack here, or the Redis nodes and Sentinels alone.
 */
export class LocalView implements DeploymentView {
  readonly kind = 'local';

  constructor(private readonly known: LocalStackFacts) {}

  /** What every answer comes from (a LocalDeployment's: the stack that runs now). */
  protected get stack(): LocalStackFacts {
    return this.known;
  }

  get where(): string {
    return this.stack.config.dir;
  }
  get apiRunner(): string {
    return this.stack.config.apiRunner;
  }
  get publicUrl(): string {
    return `http://${this.stack.config.host}:${this.stack.config.httpPort}`;
  }
  get admin() {
    return this.stack.credentials.admin;
  }
  get redisAdmin(): RedisAuth {
    return adminAuth(this.stack.credentials.redis);
  }
  get sentinelAuth(): RedisAuth {
    return sentinelAuth(this.stack.credentials.redis);
  }
  get keyPrefix(): string {
    return this.stack.config.keyPrefix;
  }
  get masterName(): string {
    return this.stack.config.masterName;
  }
  get prometheusUrl(): string | undefined {
    const { monitoring, host } = this.stack.config;
    return monitoring && `http://${host}:${monitoring.prometheusPort}`;
  }

  async nodes(): Promise<Member[]> {
    return this.stack.config.redisPorts.map((port) => this.member('redis', port));
  }
  async sentinels(): Promise<Member[]> {
    return this.stack.config.sentinelPorts.map((port) => this.member('sentinel', port));
  }
  async apis(): Promise<(Member & { url: string })[]> {
    return this.stack.config.apiPorts.map((port) => {
      const api = this.member('api', port);
      return { ...api, url: `http://${api.host}:${api.port}` };
    });
  }
  master(): Promise<Member> {
    return masterBySentinels(this);
  }
  async nodeAt(host: string, port: number): Promise<Member | undefined> {
    return (await this.nodes()).find((node) => node.port === port);
  }

  protected member(kind: 'redis' | 'sentinel' | 'api', port: number): Member {
    return { name: `${kind}-${port}`, host: this.stack.config.host, port };
  }
}

/** How a tool finds a local stack it did not start running, and stops and starts it (a restore). */
export interface StackControl {
  /** Whether the whole stack runs now (its Redis nodes and Sentinels on the config's ports). */
  isRunning(): Promise<boolean>;
  stopStack(): Promise<void>;
  /** Starts the whole stack again (after a restore of a running one). */
  startStack(): Promise<void>;
}

/** The stack `npm start` / `npm run up` launched from the config's state folder: its record, npm run down / up. */
export function launcherControl(config: StackConfig): StackControl {
  return {
    isRunning: async () => (await runningStack(config.dir)) !== undefined,
    stopStack: async () => {
      if ((await down(config)) !== 0) throw new Error('the stack did not stop: `npm run status` shows what runs');
    },
    startStack: async () => {
      if ((await up(config)) !== 0) throw new Error('the stack did not start again: see its log above');
    },
  };
}

/**
 * The local stack as a Deployment: its view's answers, faults by signals through the supervisor. restart-whole
 * stops it and starts a new LocalStack from the same config (so the same ports, credentials and data): stop()
 * stops every stack it started.
 */
export class LocalDeployment extends LocalView implements Deployment {
  readonly verbs = { pause: 'SIGSTOP', resume: 'SIGCONT' };
  readonly capabilities: Set<Capability>;
  private readonly all: LocalStack[];
  private smallDisks: DiskControl | undefined;

  /** Without options (the nginx program, the log), it cannot start another stack: restart-whole is then missing. */
  constructor(
    private current: LocalStack,
    private readonly options?: StackOptions,
  ) {
    super(current);
    this.all = [current];
    this.capabilities = new Set<Capability>(
      options ? ['supervisor', 'restart-whole', 'hold-down'] : ['supervisor', 'hold-down'],
    );
  }

  /** With the `disks` capability: the small filesystems its nodes were started on (the drill mounts them). */
  get disks(): DiskControl | undefined {
    return this.smallDisks;
  }
  attachDisks(disks: DiskControl): void {
    this.smallDisks = disks;
    this.capabilities.add('disks');
  }

  /** The stack that runs now (restart-whole replaces it), for the faults only a supervised stack has. */
  override get stack(): LocalStack {
    return this.current;
  }

  get topology(): Topology {
    const { topology } = this.current;
    if (!topology) throw new Error('the stack is down: it could not be started again');
    return topology;
  }

  get downAfterMs(): number {
    return this.current.config.downAfterMs;
  }
  get failoverTimeoutMs(): number {
    return this.current.config.failoverTimeoutMs;
  }

  /** The topology's answer: it asks only the Sentinels it knows to answer (a drill pauses and kills some). */
  override async master(): Promise<Member> {
    return this.member('redis', (await this.topology.masterAddress()).port);
  }

  async pause(name: string): Promise<void> {
    this.topology.pause(redisPort(name));
  }
  async resume(name: string): Promise<void> {
    this.topology.resume(redisPort(name));
  }
  async kill(name: string, signal: NodeJS.Signals): Promise<void> {
    if (API.test(name)) await this.api(name).kill(signal);
    else await this.topology.kill(redisPort(name), signal);
  }
  async start(name: string): Promise<void> {
    if (API.test(name)) await this.current.startApi(this.apiIndex(name));
    else await this.topology.restart(redisPort(name));
  }
  async waitForFailover(old: string, timeoutMs: number): Promise<Member> {
    return this.member('redis', (await this.topology.waitForFailover(redisPort(old), timeoutMs)).port);
  }
  waitForReplicaOf(name: string, master: string, timeoutMs: number): Promise<void> {
    return this.topology.waitForReplicaOf(redisPort(name), redisPort(master), timeoutMs);
  }

  /** Stops the current stack, then starts a new one from its config; rejects when that one cannot start. */
  async restartWhole(stopped: (ms: number) => void): Promise<void> {
    if (!this.options) throw new Error('restart-whole needs the options the stack was started with');
    const stopping = Date.now();
    await this.current.stop();
    stopped(Date.now() - stopping);
    const next = new LocalStack(this.current.config, this.options);
    this.current = next;
    this.all.push(next);
    await next.start();
  }

  async bringBack(): Promise<string[]> {
    const stack = this.current;
    const problems: string[] = [];
    // Restarted below all the same, but a crash loop the supervisor gave up on leaves the cycle not healed.
    for (const { spec, gaveUp } of stack.supervised()) {
      if (gaveUp) problems.push(`the supervisor gave up on ${spec.name}: ${gaveUp.message.split('\n')[0]}`);
    }
    try {
      for (const p of this.topology.processes()) if (p.pid === undefined) await this.topology.restart(p.port);
      for (const [i, api] of stack.apis.entries()) if (!api.running) await stack.startApi(i);
      if (stack.nginx && !stack.nginx.running) {
        stack.nginx.start();
        await stack.nginx.waitUntilReady();
      }
    } catch (err) {
      problems.push(`restarting what was down: ${(err as Error).message}`);
    }
    return problems;
  }

  async edgeProblems(): Promise<string[]> {
    const { nginx } = this.current;
    if (!nginx) return [];
    // Checked apart from the probe: the workers of a killed NGINX master live on, and still answer.
    if (!nginx.running) return [`${nginx.spec.name}: not running`];
    return nginx.spec.ready().then(
      () => [],
      (err: Error) => [`${nginx.spec.name}: ${err.message}`],
    );
  }

  /** Stops every stack it started (stop() is idempotent): one may still be starting when a drill is cut short. */
  async stop(): Promise<void> {
    await Promise.all(this.all.map((stack) => stack.stop()));
  }

  private apiIndex(name: string): number {
    const i = this.current.config.apiPorts.indexOf(Number(API.exec(name)?.[1]));
    if (i < 0) throw new Error(`no API instance ${name}`);
    return i;
  }

  private api(name: string) {
    const api = this.current.apis[this.apiIndex(name)];
    if (!api) throw new Error(`${name} is not started`);
    return api;
  }
}

/** redis-6379 or sentinel-26379 → its port. */
function redisPort(name: string): number {
  const port = Number(REDIS.exec(name)?.[2]);
  if (!port) throw new Error(`${name} is neither a Redis node nor a Sentinel of the local stack`);
  return port;
}
