/**
 * Starts and stops a real Redis HA topology (Redis nodes + Sentinels) on one host from the repo's
 * redis/redis.conf and sentinel/sentinel.conf. Used by the tests and by the local stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tail } from './logs.js';
import { guardAgainstOrphans } from './orphans.js';
import { command, pairs } from './redis-probe.js';
import { renderTemplate } from './template.js';
import { waitFor } from './wait.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const SHARED_REDIS_CONF = path.join(repoRoot, 'redis', 'redis.conf');
const SENTINEL_TEMPLATE = path.join(repoRoot, 'sentinel', 'sentinel.conf');

const START_TIMEOUT_MS = 30_000;
// Longer than Redis's own shutdown-timeout (10 s), during which a master waits for lagging replicas.
const STOP_GRACE_MS = 15_000;
const TERM_REPEAT_MS = 250;

export interface TopologyOptions {
  /** Absolute state dir: each node gets dir/redis-<port>/, each Sentinel dir/sentinel-<port>/. */
  dir: string;
  host?: string;
  /** The first is the initial master, the rest its replicas. */
  redisPorts: number[];
  sentinelPorts: number[];
  masterName?: string;
  /** requirepass + masterauth on the nodes, auth-pass in the Sentinels. */
  redisPassword?: string;
  /** requirepass on the Sentinels and sentinel-pass between them. */
  sentinelPassword?: string;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  quorum?: number;
  /** Progress lines. */
  log?: (msg: string) => void;
  /** Each process in its own process group: a terminal's Ctrl-C then reaches only the launcher, which stops them in order. */
  detached?: boolean;
}

export type ResolvedTopologyOptions = Required<Omit<TopologyOptions, 'redisPassword' | 'sentinelPassword'>> &
  Pick<TopologyOptions, 'redisPassword' | 'sentinelPassword'>;

export interface Address {
  host: string;
  port: number;
}

export interface Topology {
  readonly options: ResolvedTopologyOptions;
  readonly sentinels: Address[];
  /** The master as the first Sentinel that answers names it. */
  masterAddress(): Promise<Address>;
  /** Pid of the running redis-server or Sentinel on that port. */
  pidOf(port: number): number | undefined;
  /** Every node and Sentinel: its name (redis-<port>, sentinel-<port>), pid while it runs, and log. */
  processes(): { name: string; port: number; pid: number | undefined; log: string }[];
  /** SIGSTOP: the process keeps its sockets open but answers nothing. */
  pause(port: number): void;
  /** SIGCONT. */
  resume(port: number): void;
  /** Sends the signal (SIGTERM by default) and waits for the exit; SIGKILL after a grace period. */
  kill(port: number, signal?: NodeJS.Signals): Promise<void>;
  /** Stops that process if it runs, starts it again with the same config and data, waits for PING. */
  restart(port: number): Promise<void>;
  /** Waits until every running Sentinel names the same master, other than the old one. */
  waitForFailover(oldMasterPort: number, timeoutMs: number): Promise<Address>;
  /** Waits until the node's ROLE says it replicates masterPort with the link up. */
  waitForReplicaOf(port: number, masterPort: number, timeoutMs: number): Promise<void>;
  /** Stops everything (Sentinels first, so they start no failover); idempotent. */
  stop(): Promise<void>;
}

export async function startTopology(opts: TopologyOptions): Promise<Topology> {
  const topology = new LocalTopology(resolveOptions(opts));
  await topology.start();
  return topology;
}

function resolveOptions(opts: TopologyOptions): ResolvedTopologyOptions {
  const o: ResolvedTopologyOptions = {
    ...opts,
    host: opts.host ?? '127.0.0.1',
    masterName: opts.masterName ?? 'evergreen',
    downAfterMs: opts.downAfterMs ?? 5000,
    failoverTimeoutMs: opts.failoverTimeoutMs ?? 10_000,
    quorum: opts.quorum ?? 2,
    log: opts.log ?? (() => {}),
    detached: opts.detached ?? false,
  };
  const ports = [...o.redisPorts, ...o.sentinelPorts];
  if (!path.isAbsolute(o.dir)) throw new Error(`topology dir must be absolute, got ${o.dir}`);
  if (o.redisPorts.length === 0 || o.sentinelPorts.length === 0) throw new Error('topology needs at least one Redis node and one Sentinel');
  if (new Set(ports).size !== ports.length) throw new Error(`topology ports must be distinct, got ${ports.join(', ')}`);
  if (o.quorum < 1 || o.quorum > o.sentinelPorts.length) throw new Error(`quorum ${o.quorum} is impossible with ${o.sentinelPorts.length} Sentinels`);
  for (const password of [o.redisPassword, o.sentinelPassword]) {
    // Written into config files: a space, quote or backslash would change their meaning.
    if (password !== undefined && !/^[^\s"'\\]+$/.test(password)) throw new Error('passwords must be non-empty, without spaces, quotes or backslashes');
  }
  return o;
}

interface Proc {
  kind: 'redis' | 'sentinel';
  name: string; // redis-<port> or sentinel-<port>, also its folder's name
  port: number;
  password: string | undefined;
  dir: string;
  conf: string;
  log: string;
  child?: ChildProcess;
  exited?: Promise<void>;
  paused: boolean;
  expectExit: boolean;
  crash?: Error; // set when it exits without being asked to
}

class LocalTopology implements Topology {
  readonly options: ResolvedTopologyOptions;
  readonly sentinels: Address[];
  private readonly nodes: Proc[];
  private readonly sentinelProcs: Proc[];
  private stopped = false;
  private stopping?: Promise<void>;

  constructor(options: ResolvedTopologyOptions) {
    this.options = options;
    const proc = (kind: Proc['kind'], port: number, password: string | undefined): Proc => {
      const name = `${kind}-${port}`;
      const dir = path.join(options.dir, name);
      const file = (ext: string) => path.join(dir, `${kind}.${ext}`);
      return { kind, name, port, password, dir, conf: file('conf'), log: file('log'), paused: false, expectExit: false };
    };
    this.nodes = options.redisPorts.map((port) => proc('redis', port, options.redisPassword));
    this.sentinelProcs = options.sentinelPorts.map((port) => proc('sentinel', port, options.sentinelPassword));
    this.sentinels = options.sentinelPorts.map((port) => ({ host: options.host, port }));
  }

  async start(): Promise<void> {
    const started = Date.now();
    const deadline = started + START_TIMEOUT_MS;
    const all = [...this.nodes, ...this.sentinelProcs];
    try {
      await this.writeMissingConfigs();
      this.nodes.forEach((p) => this.spawn(p));
      await Promise.all(this.nodes.map((p) => this.waitForPing(p, deadline, all)));
      const master = await this.waitForReplication(deadline, all);
      this.options.log(`replication up: master ${master.name}, ${this.nodes.length - 1} replicas (${Date.now() - started} ms)`);
      // Sentinels start after replication so their first INFO of the master already lists every replica.
      this.sentinelProcs.forEach((p) => this.spawn(p));
      await Promise.all(this.sentinelProcs.map((p) => this.waitForSentinel(p, master, deadline, all)));
      this.options.log(`Sentinels agree on ${master.name} (${Date.now() - started} ms)`);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async masterAddress(): Promise<Address> {
    const errors: string[] = [];
    for (const p of this.sentinelProcs.filter(answers)) {
      try {
        return await this.sentinelMaster(p);
      } catch (err) {
        errors.push(`${p.name}: ${messageOf(err)}`);
      }
    }
    throw new Error(`no Sentinel named master ${this.options.masterName}: ${errors.join('; ') || 'none is running'}`);
  }

  pidOf(port: number): number | undefined {
    const p = this.proc(port);
    return running(p) ? p.child?.pid : undefined;
  }

  processes(): { name: string; port: number; pid: number | undefined; log: string }[] {
    return [...this.nodes, ...this.sentinelProcs].map((p) => ({ name: p.name, port: p.port, pid: this.pidOf(p.port), log: p.log }));
  }

  pause(port: number): void {
    this.signal(this.proc(port), 'SIGSTOP');
  }

  resume(port: number): void {
    this.signal(this.proc(port), 'SIGCONT');
  }

  async kill(port: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.terminate(this.proc(port), signal);
  }

  async restart(port: number): Promise<void> {
    const p = this.proc(port);
    if (this.stopped) throw new Error(`cannot restart ${p.name}: the topology is stopped`);
    await this.terminate(p, 'SIGTERM');
    this.spawn(p);
    await this.waitForPing(p, Date.now() + START_TIMEOUT_MS, [p]);
  }

  async waitForFailover(oldMasterPort: number, timeoutMs: number): Promise<Address> {
    const sentinels = this.sentinelProcs.filter(answers);
    const old = `${this.options.host}:${oldMasterPort}`;
    return this.poll(`every running Sentinel to name one master other than ${old}`, Date.now() + timeoutMs, sentinels, async () => {
      const named = await Promise.all(sentinels.map((p) => this.sentinelMaster(p)));
      const addresses = new Set(named.map(({ host, port }) => `${host}:${port}`));
      const [first] = named;
      if (!first || addresses.has(old) || addresses.size > 1) throw new Error(`they name ${[...addresses].join(', ') || 'nothing'}`);
      return first;
    });
  }

  async waitForReplicaOf(port: number, masterPort: number, timeoutMs: number): Promise<void> {
    const p = this.proc(port);
    await this.poll(`${p.name} to replicate port ${masterPort} with the link up (log: ${p.log})`, Date.now() + timeoutMs, [p], async () => {
      const role = await this.ask(p, ['ROLE']);
      // A replica's ROLE: ['slave', masterHost, masterPort, 'connected' once synced, offset].
      if (!Array.isArray(role) || role[0] !== 'slave' || Number(role[2]) !== masterPort || role[3] !== 'connected') {
        throw new Error(`ROLE says ${JSON.stringify(role)}`);
      }
    });
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      await Promise.all(this.sentinelProcs.map((p) => this.terminate(p, 'SIGTERM')));
      await Promise.all(this.nodes.map((p) => this.terminate(p, 'SIGTERM')));
    })();
    return this.stopping;
  }

  private proc(port: number): Proc {
    const p = [...this.nodes, ...this.sentinelProcs].find((candidate) => candidate.port === port);
    if (!p) throw new Error(`no Redis node or Sentinel on port ${port} in this topology`);
    return p;
  }

  // Rendered only for a fresh dir: Redis and Sentinel rewrite their configs with the roles Sentinel
  // chose, and those must survive a restart.
  private async writeMissingConfigs(): Promise<void> {
    const template = await readFile(SENTINEL_TEMPLATE, 'utf8');
    const [master] = this.nodes;
    for (const p of [...this.nodes, ...this.sentinelProcs]) {
      await mkdir(p.dir, { recursive: true, mode: 0o700 }); // configs and data hold passwords
      if (existsSync(p.conf)) {
        this.options.log(`${p.name}: keeping its existing ${p.conf}`);
        continue;
      }
      const config = p.kind === 'redis' ? this.nodeConfig(p, p === master ? undefined : master?.port) : this.sentinelConfig(template, p);
      await writeFile(p.conf, config, { mode: 0o600 });
    }
  }

  private nodeConfig(p: Proc, masterPort: number | undefined): string {
    const { host, redisPassword } = this.options;
    const lines = [
      `include "${SHARED_REDIS_CONF}"`,
      `port ${p.port}`,
      `bind ${host}`,
      'daemonize no',
      `dir "${p.dir}"`,
      `pidfile "${path.join(p.dir, 'redis.pid')}"`,
      `logfile "${p.log}"`,
      `replica-announce-ip ${host}`,
      ...(redisPassword ? [`requirepass "${redisPassword}"`, `masterauth "${redisPassword}"`] : []),
      ...(masterPort === undefined ? [] : [`replicaof ${host} ${masterPort}`]),
    ];
    return `${lines.join('\n')}\n`;
  }

  private sentinelConfig(template: string, p: Proc): string {
    const o = this.options;
    return renderTemplate(SENTINEL_TEMPLATE, template, {
      SENTINEL_BIND: o.host,
      SENTINEL_PORT: String(p.port),
      SENTINEL_ANNOUNCE_HOST: o.host,
      SENTINEL_DIR: p.dir,
      SENTINEL_PIDFILE: path.join(p.dir, 'sentinel.pid'),
      SENTINEL_LOGFILE: p.log,
      SENTINEL_PASSWORD: o.sentinelPassword ?? '',
      MASTER_NAME: o.masterName,
      MASTER_HOST: o.host,
      MASTER_PORT: String(o.redisPorts[0]),
      QUORUM: String(o.quorum),
      DOWN_AFTER_MS: String(o.downAfterMs),
      FAILOVER_TIMEOUT_MS: String(o.failoverTimeoutMs),
      REDIS_PASSWORD: o.redisPassword ?? '',
    });
  }

  private spawn(p: Proc): void {
    // stderr too: a config error is printed there before Redis opens its logfile.
    const out = openSync(p.log, 'a');
    const child = spawn(p.kind === 'redis' ? 'redis-server' : 'redis-sentinel', [p.conf], {
      stdio: ['ignore', out, out],
      detached: this.options.detached,
    });
    closeSync(out);
    Object.assign(p, { child, paused: false, expectExit: false, crash: undefined });
    guardAgainstOrphans(child);
    p.exited = new Promise((resolve) => {
      const done = (why: string) => {
        if (!p.expectExit && !p.crash) {
          p.crash = new Error(`${p.name} ${why}; log: ${p.log}\n${tail(p.log)}`);
          this.options.log(p.crash.message);
        }
        resolve();
      };
      child.once('exit', (code, signal) => done(`exited (${signal ?? `code ${code}`})`));
      child.once('error', (err) => done(`could not be started: ${err.message}`));
    });
    this.options.log(`${p.name}: started, pid ${child.pid}`);
  }

  private signal(p: Proc, signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!running(p)) throw new Error(`cannot ${signal} ${p.name}: it is not running`);
    p.child?.kill(signal);
    p.paused = signal === 'SIGSTOP';
  }

  private async terminate(p: Proc, signal: NodeJS.Signals): Promise<void> {
    if (!running(p)) return;
    p.expectExit = true;
    p.child?.kill(signal);
    // A stopped process acts on no signal until continued.
    if (p.paused) p.child?.kill('SIGCONT');
    // Redis ignores a SIGTERM while it writes its first AOF after a sync ("can't exit"): ask again.
    const repeat = signal === 'SIGTERM' ? setInterval(() => p.child?.kill(signal), TERM_REPEAT_MS) : undefined;
    const escalate = setTimeout(() => p.child?.kill('SIGKILL'), STOP_GRACE_MS);
    await p.exited;
    clearInterval(repeat);
    clearTimeout(escalate);
  }

  private waitForPing(p: Proc, deadline: number, watched: Proc[]): Promise<unknown> {
    return this.poll(`${p.name} to answer PING (log: ${p.log})`, deadline, watched, () => this.ask(p, ['PING']));
  }

  // The master is whichever node says so: after a persisted restart it need not be the first port.
  private waitForReplication(deadline: number, watched: Proc[]): Promise<Proc> {
    const logs = this.nodes.map((p) => p.log).join(', ');
    return this.poll(`one master with every other node as an online replica (logs: ${logs})`, deadline, watched, async () => {
      const roles = await Promise.all(this.nodes.map((p) => this.ask(p, ['ROLE'])));
      const masters = this.nodes.filter((_, i) => Array.isArray(roles[i]) && roles[i][0] === 'master');
      const [master] = masters;
      if (!master || masters.length > 1) {
        throw new Error(`ROLE says ${this.nodes.map((p, i) => `${p.name}: ${JSON.stringify(roles[i])}`).join('; ')}`);
      }
      // The master's own view counts: min-replicas-to-write needs replicas it sees online.
      const info = String(await this.ask(master, ['INFO', 'replication']));
      const online = new Set([...info.matchAll(/^slave\d+:.*\bport=(\d+),state=online/gm)].map((m) => Number(m[1])));
      const missing = this.nodes.filter((p) => p !== master && !online.has(p.port));
      if (missing.length > 0) throw new Error(`${master.name} has no online replica ${missing.map((p) => p.name).join(', ')}`);
      return master;
    });
  }

  private async waitForSentinel(p: Proc, master: Proc, deadline: number, watched: Proc[]): Promise<void> {
    await this.waitForPing(p, deadline, watched);
    const want: Record<string, string> = {
      ip: this.options.host,
      port: String(master.port),
      flags: 'master',
      'num-slaves': String(this.nodes.length - 1),
      'num-other-sentinels': String(this.sentinelProcs.length - 1),
    };
    const what = `${p.name} to see ${Object.entries(want).map(([k, v]) => `${k}=${v}`).join(' ')} (log: ${p.log})`;
    await this.poll(what, deadline, watched, async () => {
      const reply = await this.ask(p, ['SENTINEL', 'MASTER', this.options.masterName]);
      const fields = pairs(reply);
      const wrong = Object.keys(want).filter((k) => fields[k] !== want[k]);
      if (wrong.length > 0) throw new Error(`it sees ${wrong.map((k) => `${k}=${fields[k]}`).join(' ')}`);
    });
  }

  private async sentinelMaster(p: Proc): Promise<Address> {
    const reply = await this.ask(p, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.options.masterName]);
    if (!Array.isArray(reply) || reply.length !== 2) throw new Error(`it does not know master ${this.options.masterName}`);
    return { host: String(reply[0]), port: Number(reply[1]) };
  }

  private ask(p: Proc, args: [string, ...string[]]): Promise<unknown> {
    return command(this.options.host, p.port, p.password, args);
  }

  /** Retries check until it resolves (wait.ts); fails at once if a watched process died or the topology stopped. */
  private poll<T>(what: string, deadline: number, watched: Proc[], check: () => Promise<T>): Promise<T> {
    const halted = () => (this.stopped ? new Error(`topology stopped while waiting for ${what}`) : watched.find((p) => p.crash)?.crash);
    return waitFor(what, Math.max(0, deadline - Date.now()), check, halted);
  }
}

function running(p: Proc): boolean {
  return p.child?.pid !== undefined && p.child.exitCode === null && p.child.signalCode === null;
}

function answers(p: Proc): boolean {
  return running(p) && !p.paused;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
