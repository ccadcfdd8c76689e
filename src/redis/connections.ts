import { Redis, type RedisOptions } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';

/**
 * ioredis options for each role. The numbers come from failover drills (see README, "Failover"):
 * with defaults a paused master stalls writes for ~16 s; with the failover detector, a short socket
 * timeout and a quick disconnect, writes reach the promoted replica in ~3.5 s.
 */
type RedisConfig = Config['redis'];

const reconnectOnReadonly = (err: Error) => (err.message.startsWith('READONLY') ? 1 : false);

function sentinelOptions(cfg: RedisConfig): RedisOptions {
  return {
    sentinels: cfg.sentinels,
    name: cfg.masterName,
    password: cfg.password,
    sentinelPassword: cfg.sentinelPassword,
    protocol: 2,
    failoverDetector: true,
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

/** Catalog reads; the product store falls back to the master when this one fails. */
export function replicaOptions(cfg: RedisConfig): RedisOptions {
  return {
    ...sentinelOptions(cfg),
    role: 'slave',
    commandTimeout: Math.min(cfg.commandTimeoutMs, 500),
    enableOfflineQueue: false,
    connectionName: 'evergreen-replica',
  };
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
    const timer = setTimeout(
      () => finish(new Error(`Redis (${client.options.connectionName}) not ready after ${timeoutMs} ms: ${lastError?.message ?? client.status}`)),
      timeoutMs,
    );
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

/** Logs every change of the master this client talks to (a failover as the service sees it) and reports it. */
export function watchMaster(client: Redis, log: FastifyBaseLogger, onSwitch: (from: string, to: string) => void): void {
  let current: string | undefined;
  client.on('ready', () => {
    const address = `${client.stream?.remoteAddress}:${client.stream?.remotePort}`;
    if (current && current !== address) {
      log.warn({ from: current, to: address }, 'redis master switched');
      onSwitch(current, address);
    } else if (!current) {
      log.info({ master: address }, 'connected to redis master');
    }
    current = address;
  });
}

/**
 * QUIT (bounded: a paused master never answers), then disconnect: ioredis only stops the failover
 * detector's Sentinel subscriptions on disconnect(), and after a bare quit() they reconnect forever.
 */
export async function closeClient(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    await Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500).unref())]);
  }
  client.disconnect();
}

export { Redis };
