import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import {
  FailoverFence,
  SENTINEL_CHANNELS,
  formatAddress,
  parseSentinelEvent,
  type Address,
  type SentinelView,
} from './failover-fence.js';

type RedisConfig = Config['redis'];

/** Taken before a write; the write may be acknowledged only while the watch still holds it. */
export interface Lease {
  epoch: number;
}

interface Listener {
  id: string;
  subscriber: Redis;
  query: Redis;
  /** Events heard while the Sentinel's own view is being read; applied after it. */
  pending: [string, string][] | undefined;
}

/**
 * Listens to every Sentinel's pub/sub for the whole life of the service: the master's address (and its
 * changes: `switch` events), and the failover fence (failover-fence.ts). One subscription per Sentinel per
 * instance replaces ioredis's own failover detector, which can end a reconnecting client for good
 * (docs/reliability.md, "Why not ioredis's failover detector").
 */
export class FailoverWatch extends EventEmitter<{
  switch: [from: Address | undefined, to: Address];
  /** The fence went up (true) or down (false). */
  fence: [up: boolean];
}> {
  readonly fence: FailoverFence;
  private readonly links: Listener[];
  private masterIps = new Set<string>();
  private closed = false;

  constructor(
    private readonly cfg: RedisConfig,
    private readonly log: FastifyBaseLogger,
  ) {
    super();
    // One listener per Redis client that follows the master (the transaction pool's size is configurable).
    this.setMaxListeners(0);
    this.fence = new FailoverFence(cfg.sentinels.length);
    this.links = cfg.sentinels.map((s) => {
      const options = {
        host: s.host,
        port: s.port,
        username: cfg.sentinelUsername,
        password: cfg.sentinelPassword,
        protocol: 2 as const,
        lazyConnect: true,
        connectTimeout: cfg.connectTimeoutMs,
        retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
      };
      return {
        id: formatAddress(s),
        subscriber: new Redis({ ...options, connectionName: 'evergreen-sentinel-events' }),
        query: new Redis({
          ...options,
          commandTimeout: 1000,
          enableOfflineQueue: false,
          connectionName: 'evergreen-sentinel-query',
        }),
        pending: undefined,
      };
    });
  }

  /** Connects to every Sentinel; resolves once a majority of them told us who the master is. */
  async start(timeoutMs: number): Promise<void> {
    for (const listener of this.links) this.listen(listener);
    const deadline = Date.now() + timeoutMs;
    while (this.fence.live <= this.cfg.sentinels.length / 2) {
      if (Date.now() > deadline) {
        throw new Error(
          `heard from ${this.fence.live} of ${this.cfg.sentinels.length} Sentinels after ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** A lease for a write about to be sent, or undefined while the fence is up. */
  lease(): Lease | undefined {
    return this.fence.fenced ? undefined : { epoch: this.fence.epoch };
  }

  /** Whether a write made under `lease` may be acknowledged: no doubt about the master since it was taken. */
  holds(lease: Lease): boolean {
    return !this.fence.fenced && this.fence.epoch === lease.epoch;
  }

  /** Whether this client's socket goes to the master every Sentinel agreed on (a paused old one may still answer). */
  isMaster(client: Redis): boolean {
    const master = this.fence.master;
    const stream = client.stream;
    if (!master || !stream || stream.remotePort !== master.port || !stream.remoteAddress) return false;
    const address = stream.remoteAddress.replace(/^::ffff:/, '');
    return address === master.host || this.masterIps.has(address);
  }

  /** Sentinels we hear from, for /health/ready. */
  get sentinelsLive(): string {
    return `${this.fence.live}/${this.cfg.sentinels.length}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const { subscriber, query } of this.links) {
      subscriber.disconnect();
      query.disconnect();
    }
  }

  private listen(listener: Listener): void {
    const { id, subscriber, query } = listener;
    query.on('error', () => undefined); // its failures show as a Sentinel we do not hear from
    subscriber.on('error', (err: Error) =>
      this.log.debug({ sentinel: id, err: { message: err.message } }, 'sentinel connection error'),
    );
    subscriber.on('message', (channel: string, message: string) => {
      if (listener.pending) listener.pending.push([channel, message]);
      else this.onMessage(id, channel, message);
    });
    subscriber.on('ready', () => void this.sync(listener));
    subscriber.on('close', () => {
      const wasFenced = this.fence.fenced;
      this.fence.disconnected(id);
      this.logFence(wasFenced);
    });
    subscriber.connect().catch(() => undefined);
  }

  /** After every (re)subscription: read the Sentinel's own view, then replay what it said meanwhile. */
  private async sync(listener: Listener): Promise<void> {
    const { id, subscriber, query } = listener;
    listener.pending = [];
    try {
      await subscriber.subscribe(...SENTINEL_CHANNELS);
      if (query.status === 'wait' || query.status === 'end') await query.connect();
      const reply = (await query.call('SENTINEL', 'MASTER', this.cfg.masterName)) as string[];
      const fields = Object.fromEntries(reply.flatMap((v, i) => (i % 2 === 0 ? [[v, reply[i + 1]]] : [])));
      const view: SentinelView = {
        master: { host: String(fields.ip), port: Number(fields.port) },
        flags: String(fields.flags).split(','),
        failoverTimeoutMs: Number(fields['failover-timeout']) || 60_000,
      };
      const wasFenced = this.fence.fenced;
      const before = this.fence.master;
      this.fence.connected(id, view);
      if (!before && this.fence.master) await this.adopt(undefined, this.fence.master);
      this.logFence(wasFenced);
      const pending = listener.pending;
      listener.pending = undefined;
      for (const [channel, message] of pending) this.onMessage(id, channel, message);
    } catch (err) {
      listener.pending = undefined;
      this.log.warn(
        { sentinel: id, err: { message: (err as Error).message } },
        'could not read a Sentinel view; retrying',
      );
      // Reconnect, which syncs again: never keep a subscription whose starting state we do not know.
      if (!this.closed) setTimeout(() => subscriber.disconnect(true), 500).unref();
    }
  }

  private onMessage(id: string, channel: string, message: string): void {
    const event = parseSentinelEvent(channel, message, this.cfg.masterName);
    if (!event) return;
    const wasFenced = this.fence.fenced;
    const from = this.fence.master;
    const to = this.fence.apply(id, event);
    if (to) void this.adopt(from, to);
    this.logFence(wasFenced);
  }

  private async adopt(from: Address | undefined, to: Address): Promise<void> {
    const ips = await lookup(to.host, { all: true }).then(
      (all) => all.map((a) => a.address),
      () => [],
    );
    this.masterIps = new Set(ips);
    if (from) this.log.warn({ from: formatAddress(from), to: formatAddress(to) }, 'redis master switched');
    else this.log.info({ master: formatAddress(to) }, 'redis master known');
    this.emit('switch', from, to);
  }

  private logFence(wasFenced: boolean): void {
    const fenced = this.fence.fenced;
    if (fenced === wasFenced) return;
    this.emit('fence', fenced);
    this.log.warn(
      { sentinels: this.sentinelsLive },
      fenced ? 'failover fence up: purchases wait' : 'failover fence down',
    );
  }
}
