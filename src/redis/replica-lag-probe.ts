import type { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { FailoverWatch } from './failover-watch.js';
import { nodeAddress } from './connections.js';
import {
  MasterOffsets,
  ReplicaLag,
  readerToMove,
  type LagSettings,
  type ListedReplica,
  type ProbeResult,
  type Verdict,
} from './replica-lag.js';

/** How often the master's offset is sampled and each replica reader's node probed (ROLE on each: O(1)). */
export const PROBE_INTERVAL_MS = 250;
/** A probe unanswered this long: the replica is stopped or swamped (a read there would hang as long). */
export const PROBE_TIMEOUT_MS = 200;
/** A replica out of rotation comes back once it has been good this long: longer than a throttled one's bursts. */
export const READMIT_AFTER_MS = 1000;
// A node no reader has been connected to for this long is forgotten.
const FORGET_AFTER_MS = 60_000;
// A reader moved back to its preferred replica at most this often (a move flushes the client-side cache).
const MOVE_EVERY_MS = 10_000;
// Replicas acknowledge their offset to the master once a second: their lag by it is up to that much more.
const ACK_PERIOD_MS = 1000;

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
  /** The replicas the master listed at its latest sample, with the offsets they acknowledged. */
  private listed: { node: string; offset: number }[] = [];
  private lastMove = 0;
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

  /** Whether `node` (host:port) is known to lag now: for a connection of its own on it (the live stock tail). */
  lagging(node: string | undefined): boolean {
    return node !== undefined && this.nodes.get(node)?.lag.rotation === 'out';
  }

  /** The replica `reader` is connected to (host:port), for labels; '' when it is not connected. */
  nodeOf(reader: Redis): string {
    return this.nodeOfReader.get(reader) ?? '';
  }

  /**
   * Every replica node a reader is connected to now: its lag and whether it is out of rotation. (A node no reader
   * is on is not measured: its verdict is kept a while, for when a reader comes back, but not shown.)
   */
  report(): ReplicaLagReport[] {
    const connected = new Set(this.nodeOfReader.values());
    return [...this.nodes]
      .filter(([replica]) => connected.has(replica))
      .map(([replica, node]) => ({ replica, lagSeconds: node.lag.lagMs / 1000, lagging: node.lag.rotation === 'out' }));
  }

  close(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = Date.now();
    this.sampleMaster();
    for (const reader of this.readers) this.probe(reader, now);
    if (now - this.lastMove >= MOVE_EVERY_MS) this.rebalance(now);
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
        const [role, offset, replicas] = reply as [string, number, [string, string, string][]];
        if (role !== 'master') return;
        this.offsets.record(Date.now(), Number(offset));
        this.listed = replicas.map(([host, port, acked]) => ({ node: `${host}:${port}`, offset: Number(acked) }));
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
      () => done({ kind: 'error', sentAt }),
    );
    setTimeout(() => {
      // After this turn's I/O: a reply already in the socket is read before the silence is judged.
      setImmediate(() => {
        if (node.pendingSince === sentAt) this.judge(address, node, { kind: 'silent', sentAt }, sentAt + timeoutMs);
      });
    }, timeoutMs).unref();
  }

  /** Sends a reader that shares a node with another back through Sentinel when its preferred replica keeps up. */
  private rebalance(now: number): void {
    const nodes = this.readers.map((r) => (r.status === 'ready' ? this.nodeOfReader.get(r) : undefined));
    const listed: ListedReplica[] = this.listed.map((r) => ({
      node: r.node,
      lagMs: this.offsets.lagMs(r.offset, now),
    }));
    const index = readerToMove(nodes, listed, this.settings.maxLagMs + ACK_PERIOD_MS);
    if (index === undefined) return;
    this.lastMove = now;
    this.log.info({ reader: index + 1, on: nodes[index] }, 'replica reader back to its own replica');
    this.readers[index]!.disconnect(true);
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
