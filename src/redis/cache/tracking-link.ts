import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.js';
import type { FlushReason } from './metrics.js';

/** How often the invalidation connection is pinged. */
export const HEARTBEAT_MS = 100;
/**
 * A cached read is served only while the invalidation connection answered a ping SENT within this window. A pong
 * follows, on the same socket, every invalidation Redis queued before it read the ping: so a cached value is never
 * older than the node's own data FRESH_MS ago, even when the node or the link goes silent (paused, cut off).
 */
export const FRESH_MS = 300;
/** No pong for this long: the invalidation connection is treated as lost (cache flushed, connection replaced). */
export const SILENT_MS = 1000;
const RETRY_MS = 250;

const INVALIDATE_CHANNEL = '__redis__:invalidate';

/** What a link tells its cache. */
export interface LinkEvents {
  /** Keys Redis said changed; null: the whole database (FLUSHDB/FLUSHALL). */
  invalidate(keys: string[] | null): void;
  /** The cache may have missed an invalidation. */
  flush(reason: FlushReason): void;
}

/**
 * One reading connection and the connection that receives its invalidations (Redis's two-connections mode of
 * CLIENT TRACKING, as RESP2 clients need it): `CLIENT TRACKING on REDIRECT <id>` on the reader, SUBSCRIBE
 * `__redis__:invalidate` on a second connection to the SAME node. The reader is a Sentinel client that moves
 * between nodes on its own; each time it is ready (again), the invalidation connection is (re)made beside it
 * and tracking turned on. `epoch` changes whenever an invalidation could have been missed: what was read under
 * another epoch is never served.
 */
export class TrackingLink {
  /** Bumped at every moment this link could have missed an invalidation. */
  epoch = 0;
  private tracking = false;
  /** Send time of the latest ping whose pong arrived. */
  private freshAsOf = 0;
  private pingSentAt: number | undefined;
  private subscriber: Redis | undefined;
  /** The invalidation connection's CLIENT ID, which the reader redirects to. */
  private subscriberId = 0;
  private setUpRunning = false;
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly reader: Redis,
    private readonly cfg: Config['redis'],
    private readonly events: LinkEvents,
    private readonly log: FastifyBaseLogger,
  ) {
    reader.on('ready', () => void this.setUp());
    // Tracking dies with the reader's connection: whatever it read is not watched any more.
    reader.on('close', () => this.lose('reader-reconnect'));
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS).unref();
    if (reader.status === 'ready') void this.setUp();
  }

  /** True while what this reader read is known to be watched: tracking on, invalidations heard from lately. */
  trusted(now = Date.now()): boolean {
    return this.tracking && now - this.freshAsOf < FRESH_MS;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.lose('reader-reconnect');
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /** From now on nothing read before is trusted; the cache is flushed if anything could have been cached. */
  private lose(reason: FlushReason): void {
    this.epoch += 1;
    this.pingSentAt = undefined;
    if (!this.tracking) return;
    this.tracking = false;
    this.events.flush(reason);
  }

  /**
   * Puts an invalidation connection on the reader's node (a new one unless the current one is there and live),
   * then turns tracking on for the reader, redirected to it. Any change meanwhile (epoch) discards the attempt.
   */
  private async setUp(): Promise<void> {
    if (this.setUpRunning || this.closed) return;
    this.setUpRunning = true;
    const epoch = ++this.epoch;
    this.tracking = false;
    try {
      const node = remoteAddress(this.reader);
      if (!node) throw new Error('the reader has no connection');
      let subscriber = this.subscriber;
      const at = subscriber && remoteAddress(subscriber);
      if (!subscriber || subscriber.status !== 'ready' || at?.host !== node.host || at.port !== node.port) {
        subscriber?.disconnect();
        subscriber = await this.subscribe(node);
      }
      await this.reader.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(this.subscriberId));
      if (epoch !== this.epoch || this.subscriber !== subscriber || this.reader.status !== 'ready') {
        throw new Error('the connection changed while tracking was turned on');
      }
      this.freshAsOf = Date.now();
      this.tracking = true;
    } catch (err) {
      if (!this.closed) {
        this.log.debug({ err: { message: (err as Error).message } }, 'client cache: tracking not on yet; retrying');
        setTimeout(() => {
          if (this.reader.status === 'ready' && !this.tracking) void this.setUp();
        }, RETRY_MS).unref();
      }
    } finally {
      this.setUpRunning = false;
    }
  }

  /** A new invalidation connection to `node`: its client id first (not askable once subscribed), then SUBSCRIBE. */
  private async subscribe(node: { host: string; port: number }): Promise<Redis> {
    const subscriber = new Redis({
      host: node.host,
      port: node.port,
      username: this.cfg.username,
      password: this.cfg.password,
      protocol: 2,
      connectionName: 'evergreen-invalidations',
      connectTimeout: this.cfg.connectTimeoutMs,
      commandTimeout: this.cfg.commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Never reconnected in place: a new connection is made beside the reader, whichever node that is by then.
      retryStrategy: () => null,
      lazyConnect: true,
    });
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined); // a lost connection shows as 'close' below
    subscriber.on('close', () => {
      if (this.subscriber !== subscriber) return;
      this.subscriber = undefined;
      this.lose('invalidation-lost');
      if (!this.closed && this.reader.status === 'ready') setTimeout(() => void this.setUp(), RETRY_MS).unref();
    });
    subscriber.on('messageBuffer', (channel: Buffer, payload: Buffer | Buffer[] | null) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return;
      if (payload === null) this.events.invalidate(null);
      else this.events.invalidate((Array.isArray(payload) ? payload : [payload]).map((key) => key.toString()));
    });
    try {
      await subscriber.connect();
      const id = Number(await subscriber.client('ID'));
      await subscriber.subscribe(INVALIDATE_CHANNEL);
      if (this.subscriber === subscriber) this.subscriberId = id;
      return subscriber;
    } catch (err) {
      // Never kept half made (connected, not subscribed): the next attempt would redirect to an id it never had.
      if (this.subscriber === subscriber) this.subscriber = undefined;
      subscriber.disconnect();
      throw err;
    }
  }

  /** One ping in flight at a time; a pong moves freshAsOf to when its ping left; silence past SILENT_MS is a loss. */
  private beat(): void {
    const subscriber = this.subscriber;
    if (!subscriber || !this.tracking || subscriber.status !== 'ready') return;
    const now = Date.now();
    if (this.pingSentAt !== undefined) {
      if (now - this.pingSentAt < SILENT_MS) return;
      this.log.warn('client cache: the invalidation connection went silent; flushing and replacing it');
      this.lose('invalidation-silent');
      subscriber.disconnect();
      return;
    }
    const sentAt = now;
    this.pingSentAt = sentAt;
    subscriber.ping().then(
      () => {
        if (this.subscriber !== subscriber || this.pingSentAt !== sentAt) return;
        this.pingSentAt = undefined;
        this.freshAsOf = sentAt;
      },
      () => undefined, // a failed ping: the close that follows (or the silence) says the rest
    );
  }
}

/** Where a client's socket is connected now (host as an IP, port), or undefined when it has none. */
function remoteAddress(client: Redis): { host: string; port: number } | undefined {
  const stream = client.stream;
  if (!stream?.remoteAddress || !stream.remotePort) return undefined;
  return { host: stream.remoteAddress.replace(/^::ffff:/, ''), port: stream.remotePort };
}
