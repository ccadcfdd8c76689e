import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { FailoverWatch } from './failover-watch.js';
import { nodeAddress } from './connections.js';
import { MasterOffsets, ReplicaLag, type LagSettings, type ProbeResult, type Verdict } from './replica-lag.js';

/** How often the master's offset is sampled and each replica reader's node probed (ROLE on each: O(1)). */
export const PROBE_INTERVAL_MS = 250;
/** A probe unanswered this long: the replica is stopped or swamped (a read there would hang as long). */
export const PROBE_TIMEOUT_MS = 200;
/** A replica out of rotation comes back once it has been good this long: longer than a throttled one's bursts. */
export const READMIT_AFTER_MS = 1000;
// A node no reader has been connected to for this long is forgotten (its series leave /metrics).
const FORGET_AFTER_MS = 60_000;

/** One replica node as /metrics shows it. */
export interface ReplicaLagReport {
  replica: string;
  lagSeconds: number;
  lagging: boolean;
}

/** What the monitor tells the rest of the service when a node leaves rotation. */
export interface RotationEvents {
  /** `node` has just left rotation; `readers` are connected to it (what they cached may be stale by its lag). */
  left(node: string, lagMs: number, readers: Redis[]): void;
}

interface Node {
  lag: ReplicaLag;
  /** When a probe of it left, while unanswered. */
  pendingSince: number | undefined;
  lastSeen: number;
}

/**
 * Measures each replica reader's lag (replica-lag.ts) on a timer and answers whether a reader's node is in
 * rotation. Per tick: one ROLE on the master connection, one ROLE per distinct replica node through a reader
 * connected to it — the very connection reads use, so the probe sees what a read would. Probes never wait on each
 * other and never delay a request: one at a time per node, pipelined with that connection's reads.
 */
export class ReplicaLagMonitor {
  private readonly offsets = new MasterOffsets();
  private readonly nodes = new Map<string, Node>();
  /** Each ready reader's node (host:port), set as it connects: looked up on every read, so kept at hand. */
  private readonly nodeOfReader = new Map<Redis, string>();
  private masterPending = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly master: Redis,
    private readonly readers: Redis[],
    private readonly watch: FailoverWatch,
    private readonly settings: LagSettings,
    private readonly events: RotationEvents,
    private readonly log: FastifyBaseLogger,
  ) {
    // Another master's offsets belong to another history.
    watch.on('switch', () => this.offsets.clear());
    for (const reader of readers) {
      reader.on('ready', () => {
        const node = nodeAddress(reader);
        if (node) this.nodeOfReader.set(reader, node);
        this.probe(reader, Date.now());
      });
      reader.on('close', () => this.nodeOfReader.delete(reader));
    }
    this.timer = setInterval(() => this.tick(), PROBE_INTERVAL_MS).unref();
  }

  /** Whether reads may go to `reader` now: its node answered in time with lag under the threshold. */
  inRotation(reader: Redis): boolean {
    const node = this.nodeOfReader.get(reader);
    return node !== undefined && this.nodes.get(node)?.lag.rotation === 'in';
  }

  /** The replica `reader` is connected to (host:port), for labels; '' when it is not connected. */
  nodeOf(reader: Redis): string {
    return this.nodeOfReader.get(reader) ?? '';
  }

  /** Every replica node a reader was connected to lately: its lag and whether it is out of rotation. */
  report(): ReplicaLagReport[] {
    return [...this.nodes].map(([replica, node]) => ({
      replica,
      lagSeconds: node.lag.lagMs / 1000,
      lagging: node.lag.rotation === 'out',
    }));
  }

  close(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = Date.now();
    this.sampleMaster();
    for (const reader of this.readers) this.probe(reader, now);
    for (const [address, node] of this.nodes) {
      if (now - node.lastSeen > FORGET_AFTER_MS) this.nodes.delete(address);
    }
  }

  private sampleMaster(): void {
    if (this.masterPending || this.master.status !== 'ready' || !this.watch.isMaster(this.master)) return;
    this.masterPending = true;
    this.master
      .role()
      .then((reply) => {
        const [role, offset] = reply as [string, number];
        if (role === 'master') this.offsets.record(Date.now(), Number(offset));
      })
      .catch(() => undefined) // no sample this tick; the replicas are judged on the history so far
      .finally(() => (this.masterPending = false));
  }

  /** A ROLE through `reader` to its node, unless one is in flight there already (then: still waiting). */
  private probe(reader: Redis, now: number): void {
    if (reader.status !== 'ready') return;
    const address = this.nodeOfReader.get(reader) ?? nodeAddress(reader);
    if (!address) return;
    this.nodeOfReader.set(reader, address);
    let node = this.nodes.get(address);
    if (!node) {
      node = { lag: new ReplicaLag(this.settings), pendingSince: undefined, lastSeen: now };
      this.nodes.set(address, node);
    }
    node.lastSeen = now;
    if (node.pendingSince !== undefined) return;
    const sentAt = now;
    const timeoutMs = this.settings.probeTimeoutMs;
    node.pendingSince = sentAt;
    const done = (result: ProbeResult) => {
      if (node.pendingSince !== sentAt) return;
      node.pendingSince = undefined;
      this.judge(address, node, result);
    };
    reader.role().then(
      (reply) => done(parseRole(reply as unknown[], sentAt)),
      () => done({ kind: 'error' }),
    );
    setTimeout(() => {
      // After this turn's I/O: a reply already in the socket is read before the silence is judged.
      setImmediate(() => {
        if (node.pendingSince === sentAt) this.judge(address, node, { kind: 'silent', sentAt }, sentAt + timeoutMs);
      });
    }, timeoutMs).unref();
  }

  private judge(address: string, node: Node, result: ProbeResult, atLeast = 0): void {
    const verdict: Verdict = node.lag.observe(Math.max(Date.now(), atLeast), result, this.offsets);
    if (verdict.left) {
      this.log.warn({ replica: address, lagMs: Math.round(verdict.lagMs) }, 'replica lagging: out of catalog reads');
      const readers = this.readers.filter((r) => this.nodeOfReader.get(r) === address);
      this.events.left(address, verdict.lagMs, readers);
    } else if (verdict.back) {
      this.log.info({ replica: address }, 'replica caught up: back in catalog reads');
    }
  }
}

/** ROLE's answer: ['slave', masterHost, masterPort, linkState, offset] on a replica; ['master', offset, …]. */
function parseRole(reply: unknown[], sentAt: number): ProbeResult {
  if (reply[0] === 'master') return { kind: 'answer', sentAt, role: 'master', linkUp: true, offset: Number(reply[1]) };
  return { kind: 'answer', sentAt, role: 'slave', linkUp: reply[3] === 'connected', offset: Number(reply[4]) };
}
