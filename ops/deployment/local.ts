import { adminAuth, sentinelAuth } from '../../stack/helpers/redis-users.js';
import { LocalStack, type StackOptions } from '../../stack/stack.js';
import type { Topology } from '../../stack/topology/topology.js';
import type { Capability, Deployment, Member } from './deployment.js';

const REDIS = /^(redis|sentinel)-(\d+)$/;
const API = /^api-(\d+)$/;

/**
 * The local stack as a Deployment: members named by port (redis-6379, sentinel-26379, api-3001), faults by
 * signals through the supervisor. restart-whole stops it and starts a new LocalStack from the same config (so
 * the same ports, credentials and data): stop() stops every stack it started.
 */
export class LocalDeployment implements Deployment {
  readonly kind = 'local';
  readonly verbs = { pause: 'SIGSTOP', resume: 'SIGCONT' };
  readonly capabilities: ReadonlySet<Capability>;
  private readonly all: LocalStack[];

  /** Without options (the nginx program, the log), it cannot start another stack: restart-whole is then missing. */
  constructor(
    private current: LocalStack,
    private readonly options?: StackOptions,
  ) {
    this.all = [current];
    this.capabilities = new Set<Capability>(options ? ['supervisor', 'restart-whole'] : ['supervisor']);
  }

  /** The stack that runs now (restart-whole replaces it), for the faults only a supervised stack has. */
  get stack(): LocalStack {
    return this.current;
  }

  get topology(): Topology {
    const { topology } = this.current;
    if (!topology) throw new Error('the stack is down: it could not be started again');
    return topology;
  }

  get where(): string {
    return this.current.config.dir;
  }
  get apiRunner(): string {
    return this.current.config.apiRunner;
  }
  get publicUrl(): string {
    return this.current.publicUrl;
  }
  get admin() {
    return this.current.credentials.admin;
  }
  get redisAdmin() {
    return adminAuth(this.current.credentials.redis);
  }
  get sentinelAuth() {
    return sentinelAuth(this.current.credentials.redis);
  }
  get keyPrefix(): string {
    return this.current.config.keyPrefix;
  }
  get masterName(): string {
    return this.current.config.masterName;
  }
  get downAfterMs(): number {
    return this.current.config.downAfterMs;
  }
  get failoverTimeoutMs(): number {
    return this.current.config.failoverTimeoutMs;
  }

  async nodes(): Promise<Member[]> {
    return this.current.config.redisPorts.map((port) => this.member('redis', port));
  }
  async sentinels(): Promise<Member[]> {
    return this.current.config.sentinelPorts.map((port) => this.member('sentinel', port));
  }
  async apis(): Promise<(Member & { url: string })[]> {
    return this.current.config.apiPorts.map((port, i) => ({
      ...this.member('api', port),
      url: this.current.apiUrl(i),
    }));
  }
  async master(): Promise<Member> {
    return this.member('redis', (await this.topology.masterAddress()).port);
  }
  async nodeAt(host: string, port: number): Promise<Member | undefined> {
    return (await this.nodes()).find((node) => node.port === port);
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

  private member(kind: 'redis' | 'sentinel' | 'api', port: number): Member {
    return { name: `${kind}-${port}`, host: this.current.config.host, port };
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
