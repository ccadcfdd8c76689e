/**
 * Starts and stops a real Redis HA topology (Redis nodes + Sentinels) on one host from the repo's
 * redis/redis.conf and sentinel/sentinel.conf. Used by the tests and by the local stack.
 */
import { stateLayout, type StateLayout } from '../layout.js';
import { redisNode, REDIS_START_TIMEOUT_MS, type TopologyProcess } from '../processes/redis.js';
import { sentinel } from '../processes/sentinel.js';
import type { Supervised } from '../supervisor/supervised.js';
import { followSentinels } from './rejoin.js';
import { degradedReport, repairSavedRoles } from './repair.js';
import { planRoles, readSavedNode, type RolePlan } from './saved-roles.js';
import { resolveTopologyOptions, type ResolvedTopologyOptions, type TopologyOptions } from './options.js';
import * as probes from './probes.js';
import type { Address, ProbeContext } from './probes.js';

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
  const nodes = await Promise.all(options.redisPorts.map((port) => redisNode(layout.redis(port), port, options)));
  const topology = new LocalTopology(options, layout, nodes);
  await topology.start();
  return topology;
}

class LocalTopology implements Topology {
  readonly sentinels: Address[];
  private sentinelProcs: TopologyProcess[] = [];
  private stopping?: Promise<void>;

  constructor(
    readonly options: ResolvedTopologyOptions,
    private readonly layout: StateLayout,
    readonly nodes: TopologyProcess[],
  ) {
    this.sentinels = options.sentinelPorts.map((port) => ({ host: options.host, port }));
  }

  readonly halted = (): Error | undefined => (this.stopping ? new Error('the topology was stopped') : undefined);

  /**
   * Whatever shape the nodes saved, one master with direct replicas: the roles are planned from the
   * Sentinels' saved configs and written into the nodes' configs before any node starts (saved-roles.ts);
   * a node that cannot start (unreadable data) leaves the topology degraded, said loudly, not failed.
   */
  async start(): Promise<void> {
    const started = Date.now();
    const deadline = started + REDIS_START_TIMEOUT_MS;
    const { log } = this.options;
    try {
      let plan = await repairSavedRoles(this.options, this.layout, this.nodes);
      this.nodes.forEach((p) => this.spawn(p));
      const running = await this.startedNodes(deadline);
      if (!running.some((p) => p.port === plan.master)) plan = await this.promoteInstead(plan, running);
      const master = await probes.waitForReplication(this.probeContext(running), deadline);
      const replicas = `${running.length - 1} replica${running.length === 2 ? '' : 's'}`;
      log(`replication up: master ${master.files.name}, ${replicas} (${Date.now() - started} ms)`);
      // Sentinels start after replication so their first INFO of the master already lists every replica.
      const { sentinelPorts } = this.options;
      const fresh = { masterPort: master.port, fresh: plan.resetSentinels };
      this.sentinelProcs = await Promise.all(
        sentinelPorts.map((port) => sentinel(this.layout.sentinel(port), port, this.options, fresh)),
      );
      this.sentinelProcs.forEach((p) => this.spawn(p));
      const ctx = this.probeContext(running);
      await Promise.all(this.sentinelProcs.map((p) => probes.waitForSentinel(ctx, p, master, deadline)));
      log(`Sentinels agree on ${master.files.name} (${Date.now() - started} ms)`);
      const down = this.nodes.filter((p) => !running.includes(p));
      if (down.length > 0) log(degradedReport(down, master));
    } catch (err) {
      const stoppedByUs = this.halted() !== undefined;
      await this.stop();
      throw stoppedByUs ? err : unhealthy(err);
    }
  }

  /** The nodes that started; the others are down for good (their supervisor gave up): degraded, not failed. */
  private async startedNodes(deadline: number): Promise<TopologyProcess[]> {
    const results = await Promise.allSettled(
      this.nodes.map((p) => p.process.waitUntilReady(deadline - Date.now(), this.halted)),
    );
    const running = this.nodes.filter((_, i) => results[i]?.status === 'fulfilled');
    if (running.length === 0 || this.stopping) {
      const why = results.map((r) => (r.status === 'rejected' ? String(r.reason) : '')).filter(Boolean);
      throw new Error(`no Redis node could start:\n${why.join('\n')}`);
    }
    return running;
  }

  /** The planned master could not start: the running node with the newest data takes its place, at run time. */
  private async promoteInstead(plan: RolePlan, running: TopologyProcess[]): Promise<RolePlan> {
    const saved = await Promise.all(running.map((p) => readSavedNode(p.files, p.port)));
    const next = planRoles(this.options.host, saved, []);
    const ctx = this.probeContext(running);
    for (const p of running) {
      const role = p.port === next.master ? ['NO', 'ONE'] : [this.options.host, String(next.master)];
      await probes.ask(ctx, p, ['REPLICAOF', ...role]);
      await probes.ask(ctx, p, ['CONFIG', 'REWRITE']);
    }
    this.options.log(`redis-${plan.master}, the planned master, could not start: redis-${next.master} takes its place`);
    return { ...next, resetSentinels: true };
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
    if (this.nodes.includes(p)) this.options.log(await followSentinels(p.files, p.port, this.options));
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

  /** What the probes watch: every node, or only those that run (a degraded start). */
  private probeContext(nodes = this.nodes): ProbeContext {
    return { options: this.options, nodes, sentinels: this.sentinelProcs, halted: this.halted };
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

/** A start-up that could not converge says what to do, not only what it waited for. */
function unhealthy(err: unknown): Error {
  const why = err instanceof Error ? err.message : String(err);
  return new Error(
    `the Redis nodes and Sentinels did not become one healthy topology: ${why}\n` +
      'Nothing was deleted. Read the logs it names; a node that cannot start can be moved aside (its folder) to ' +
      'resync from the master on the next start; `npm run status` shows what runs.',
  );
}
