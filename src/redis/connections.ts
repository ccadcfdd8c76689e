import { Redis, type RedisOptions } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { FailoverWatch } from './failover-watch.js';

/**
 * ioredis options for each role. The numbers come from failover drills (see docs/operations.md, "Failover drills"):
 * with defaults a paused master stalls writes for ~16 s; following `+switch-master` at once, a short socket
 * timeout and a quick disconnect bring writes to the promoted replica within a second of the switch.
 * `+switch-master` is followed by the service's own FailoverWatch (followMaster below), not by ioredis's
 * failoverDetector: that one can end a client for good when a switch lands during a reconnect.
 */
type RedisConfig = Config['redis'];

const reconnectOnReadonly = (err: Error) => (err.message.startsWith('READONLY') ? 1 : false);

function sentinelOptions(cfg: RedisConfig): RedisOptions {
  return {
    sentinels: cfg.sentinels,
    name: cfg.masterName,
    username: cfg.username,
    password: cfg.password,
    sentinelUsername: cfg.sentinelUsername,
    sentinelPassword: cfg.sentinelPassword,
    protocol: 2,
    failoverDetector: false,
    connectTimeout: cfg.connectTimeoutMs,
    disconnectTimeout: 200,
    socketTimeout: cfg.socketTimeoutMs,
    commandTimeout: cfg.commandTimeoutMs,
    sentinelCommandTimeout: 500,
    // Quick, capped reconnects: a failover takes seconds, not minutes.
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
    sentinelRetryStrategy: (attempt) => Math.min(100 * attempt, 1000),
    reconnectOnError: reconnectOnReadonly,
    // A command whose reply never came may have run: fail it, never send it twice.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  };
}

/** Writes and read-your-writes. Commands issued during a reconnect wait (bounded by commandTimeout). */
export function masterOptions(cfg: RedisConfig): RedisOptions {
  return { ...sentinelOptions(cfg), role: 'master', connectionName: 'evergreen-master' };
}

/**
 * Transaction connections: one request at a time owns one. No offline queue, so a MULTI/EXEC can never be
 * queued behind a reconnect and run on a new connection that has lost its WATCH.
 */
export function transactionOptions(cfg: RedisConfig): RedisOptions {
  return { ...sentinelOptions(cfg), role: 'master', enableOfflineQueue: false, connectionName: 'evergreen-tx' };
}

/** Sentinel's view of one replica (SENTINEL REPLICAS), as ioredis hands it to preferredSlaves. */
type ReplicaInfo = Record<string, string | undefined>;

/** In sync and answering Sentinel's pings: not a paused old master that Sentinel lists as a replica already. */
const healthyReplica = (r: ReplicaInfo) =>
  r['role-reported'] === 'slave' && r['master-link-status'] === 'ok' && Number(r['last-ok-ping-reply']) < 2000;

/**
 * Catalog reads, client `index` of several: each prefers another healthy replica, so that when one is
 * reconfigured by a failover the next read has another to go to (catalog-reads.ts).
 */
export function replicaOptions(cfg: RedisConfig, index = 0): RedisOptions {
  return {
    ...sentinelOptions(cfg),
    role: 'slave',
    commandTimeout: Math.min(cfg.commandTimeoutMs, 500),
    enableOfflineQueue: false,
    connectionName: 'evergreen-replica',
    // ioredis picks at random among these when this returns null.
    preferredSlaves: (replicas) => {
      const healthy = (replicas as unknown as ReplicaInfo[]).filter(healthyReplica);
      healthy.sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));
      return (healthy[index % Math.max(healthy.length, 1)] as unknown as (typeof replicas)[number]) ?? null;
    },
  };
}

/**
 * The live stock tail's one blocking XREAD (redis/live/stock-feed.ts): a healthy replica like the catalog reads,
 * its command timeout past the read's BLOCK time.
 */
export function stockTailOptions(cfg: RedisConfig, blockMs: number): RedisOptions {
  return {
    ...replicaOptions(cfg, 0),
    commandTimeout: blockMs + Math.max(cfg.commandTimeoutMs, 1000),
    connectionName: 'evergreen-stock-tail',
  };
}

/**
 * The token check's reads (revocations, a user's live role), on a connection of their own: CLIENT TRACKING
 * watches every key a tracked connection reads, so the master connection's other reads stay untracked. No
 * offline queue: while it reconnects, the check goes to the master connection (and is not cached).
 */
export function authReaderOptions(cfg: RedisConfig): RedisOptions {
  return { ...sentinelOptions(cfg), role: 'master', enableOfflineQueue: false, connectionName: 'evergreen-auth' };
}

/** Rate-limit counters: fail fast so that a failover skips the limiter instead of stalling every request. */
export function rateLimitOptions(cfg: RedisConfig): RedisOptions {
  return {
    ...sentinelOptions(cfg),
    role: 'master',
    commandTimeout: Math.min(cfg.commandTimeoutMs, 250),
    enableOfflineQueue: false,
    connectionName: 'evergreen-ratelimit',
  };
}

/**
 * Connects a lazy client and resolves once it is ready; rejects after `timeoutMs` with the last connection
 * error, or as soon as the client is closed. Leaves no timer behind either way.
 */
export function connect(client: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (err: Error) => {
      lastError = err;
    };
    const finish = (err?: Error) => {
      clearTimeout(timer);
      client.off('error', onError).off('ready', onReady).off('end', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => finish();
    const onEnd = () => finish(new Error(`Redis (${client.options.connectionName}) was closed before it was ready`));
    const timer = setTimeout(() => {
      const why = lastError?.message ?? client.status;
      finish(new Error(`Redis (${client.options.connectionName}) not ready after ${timeoutMs} ms: ${why}`));
    }, timeoutMs);
    client.on('error', onError).once('ready', onReady).once('end', onEnd);
    if (client.status === 'ready') finish();
    else if (client.status === 'wait') client.connect().catch(() => undefined);
  });
}

/** Logs a connection's errors once per outage, not once per retry (and keeps them from crashing the process). */
export function logConnectionErrors(client: Redis, log: FastifyBaseLogger, what: string): void {
  let failing = false;
  client.on('ready', () => {
    failing = false;
  });
  client.on('error', (err: Error) => {
    if (!failing) log.warn({ err: { message: err.message }, connection: what }, 'redis connection error');
    failing = true;
  });
}

// Clients the service itself is closing: any other 'end' is an accident to recover from.
const closing = new WeakSet<Redis>();

/**
 * Keeps a master-role client on the master the Sentinels agreed on: on a switch, and whenever it becomes
 * ready somewhere else (a paused old master that resumed still says `role:master`), it reconnects through
 * Sentinel. Only a connected client is told to: a disconnect() during its Sentinel lookup would end it.
 */
export function followMaster(client: Redis, watch: FailoverWatch): void {
  const steer = () => {
    if ((client.status === 'ready' || client.status === 'connect') && watch.fence.master && !watch.isMaster(client)) {
      client.disconnect(true);
    }
  };
  watch.on('switch', steer);
  client.on('ready', () => setTimeout(steer, 50).unref());
  // Only a close of ours ends the following: a client revived after an accidental end must keep following.
  client.on('end', () => {
    if (closing.has(client)) watch.off('switch', steer);
  });
}

/**
 * A client that ends without the service closing it (ioredis gives up on some reconnect paths) connects
 * again by itself, so that no fault can leave an instance without Redis until it is restarted.
 */
export function reviveOnEnd(client: Redis, log: FastifyBaseLogger, what: string, onRevive: () => void): void {
  client.on('end', () => {
    if (closing.has(client)) return;
    log.warn({ connection: what }, 'redis client ended on its own: connecting it again');
    onRevive();
    setTimeout(() => {
      if (!closing.has(client) && client.status === 'end') client.connect().catch(() => undefined);
    }, 100).unref();
  });
}

/** QUIT (bounded: a paused master never answers), then disconnect, which also stops any reconnect. */
export async function closeClient(client: Redis): Promise<void> {
  closing.add(client);
  if (client.status === 'ready') {
    await Promise.race([
      client.quit().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 500).unref()),
    ]);
  }
  client.disconnect();
}

/** The node a client's socket is connected to now, as `host:port` (host as an IP), or undefined without one. */
export function nodeAddress(client: Redis): string | undefined {
  const stream = client.stream;
  if (!stream?.remoteAddress || !stream.remotePort) return undefined;
  return `${stream.remoteAddress.replace(/^::ffff:/, '')}:${stream.remotePort}`;
}

export { Redis };
