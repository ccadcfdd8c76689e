/**
 * Starts and stops a real Redis HA topology (Redis nodes + Sentinels) on one host from the repo's
 * redis/redis.conf and sentinel/sentinel.conf. Used by the tests and by the local stack.
 */
import { stateLayout } from '../layout.js';
import { redisNode, REDIS_START_TIMEOUT_MS, type TopologyProcess } from '../processes/redis.js';
import { sentinel } from '../processes/sentinel.js';
import { resolveTopologyOptions, type ResolvedTopologyOptions, type TopologyOptions } from './options.js';
import * as probes from './probes.js';
import type { Address, ProbeContext } from './probes.js';
import type { Supervised } from '../supervisor/supervised.js';

export type { Address } from './probes.js';
export type { ResolvedTopologyOptions, TopologyOptions } from './options.js';

export interface Topology {
  readonly options: ResolvedTopologyOptions;
  readonly sentinels: Address[];
  /** The master as the first Sentinel that answers names it. */
  masterAddress(): Promise<Address>;
  /** Pid of the running redis-server or Sentinel on that port. */
  pidOf(port: number): number | undefined;
  /** Every node and Sentinel: its name (redis-<port>, sentinel-<port>), pid while it runs, and log. */
  processes(): { name: string; port: number; pid: number | undefined; log: string }[];
  /** Every node's and Sentinel's Supervised (restarts, gave-up state), for the launcher's supervisor endpoint. */
  supervised(): Supervised[];
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
  const options = resolveTopologyOptions(opts);
  const layout = stateLayout(options.dir);
  const topology = new LocalTopology(
    options,
    await Promise.all(options.redisPorts.map((port) => redisNode(layout.redis(port), port, options))),
    await Promise.all(options.sentinelPorts.map((port) => sentinel(layout.sentinel(port), port, options))),
  );
  await topology.start();
  return topology;
}

class LocalTopology implements Topology {
  readonly sentinels: Address[];
  private stopping?: Promise<void>;

  constructor(
    readonly options: ResolvedTopologyOptions,
    readonly nodes: TopologyProcess[],
    private readonly sentinelProcs: TopologyProcess[],
  ) {
    this.sentinels = options.sentinelPorts.map((port) => ({ host: options.host, port }));
  }

  readonly halted = (): Error | undefined => (this.stopping ? new Error('the topology was stopped') : undefined);

  async start(): Promise<void> {
    const started = Date.now();
    const deadline = started + REDIS_START_TIMEOUT_MS;
    const ctx = this.probeContext();
    try {
      this.nodes.forEach((p) => this.spawn(p));
      await Promise.all(this.nodes.map((p) => p.process.waitUntilReady(deadline - Date.now(), this.halted)));
      const master = await probes.waitForReplication(ctx, deadline);
      const replicas = `${this.nodes.length - 1} replicas`;
      this.options.log(`replication up: master ${master.files.name}, ${replicas} (${Date.now() - started} ms)`);
      // Sentinels start after replication so their first INFO of the master already lists every replica.
      this.sentinelProcs.forEach((p) => this.spawn(p));
      await Promise.all(this.sentinelProcs.map((p) => probes.waitForSentinel(ctx, p, master, deadline)));
      this.options.log(`Sentinels agree on ${master.files.name} (${Date.now() - started} ms)`);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async masterAddress(): Promise<Address> {
    const errors: string[] = [];
    for (const p of this.sentinelProcs.filter((s) => s.process.answers)) {
      try {
        return await probes.sentinelMaster(this.probeContext(), p);
      } catch (err) {
        errors.push(`${p.files.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const why = errors.join('; ') || 'none is running';
    throw new Error(`no Sentinel named master ${this.options.masterName}: ${why}`);
  }

  pidOf(port: number): number | undefined {
    return this.proc(port).process.pid;
  }

  processes() {
    return [...this.nodes, ...this.sentinelProcs].map((p) => ({
      name: p.files.name,
      port: p.port,
      pid: p.process.pid,
      log: p.files.log,
    }));
  }

  supervised(): Supervised[] {
    return [...this.nodes, ...this.sentinelProcs].map((p) => p.process);
  }

  pause(port: number): void {
    this.proc(port).process.pause();
  }

  resume(port: number): void {
    this.proc(port).process.resume();
  }

  kill(port: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return this.proc(port).process.kill(signal);
  }

  async restart(port: number): Promise<void> {
    const p = this.proc(port);
    if (this.stopping) throw new Error(`cannot restart ${p.files.name}: the topology is stopped`);
    await p.process.kill('SIGTERM');
    this.spawn(p);
    await p.process.waitUntilReady();
  }

  waitForFailover(oldMasterPort: number, timeoutMs: number): Promise<Address> {
    return probes.waitForFailover(this.probeContext(), oldMasterPort, timeoutMs);
  }

  waitForReplicaOf(port: number, masterPort: number, timeoutMs: number): Promise<void> {
    return probes.waitForReplicaOf(this.probeContext(), this.proc(port), masterPort, timeoutMs);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.sentinelProcs.map((p) => p.process.stop()));
      await Promise.all(this.nodes.map((p) => p.process.stop()));
    })();
    return this.stopping;
  }

  private probeContext(): ProbeContext {
    return { options: this.options, nodes: this.nodes, sentinels: this.sentinelProcs, halted: this.halted };
  }

  private spawn(p: TopologyProcess): void {
    p.process.start();
    this.options.log(`${p.files.name}: started, pid ${p.process.pid}`);
  }

  private proc(port: number): TopologyProcess {
    const p = [...this.nodes, ...this.sentinelProcs].find((candidate) => candidate.port === port);
    if (!p) throw new Error(`no Redis node or Sentinel on port ${port} in this topology`);
    return p;
  }
}
