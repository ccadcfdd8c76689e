import genericPool, { type Pool } from 'generic-pool';
import type { FastifyBaseLogger } from 'fastify';
import {
  Redis,
  closeClient,
  followMaster,
  logConnectionErrors,
  reviveOnEnd,
  transactionOptions,
} from './connections.js';
import type { FailoverWatch } from './failover-watch.js';
import type { Config } from '../config.js';
import { ServiceUnavailable } from '../errors.js';

const POLL_MS = 25;

/**
 * WATCH state belongs to a connection, so each WATCH/MULTI/EXEC runs on a connection leased to one request
 * for its whole duration. `generation` changes whenever the socket closes: a transaction that saw it
 * change between WATCH and EXEC must start over, because its WATCH died with the old socket.
 */
export class TxConnection {
  generation = 0;
  constructor(
    readonly redis: Redis,
    private readonly watch: FailoverWatch,
  ) {
    redis.on('close', () => {
      this.generation += 1;
    });
  }

  /** Whether a write may be sent now: connected, to the master the Sentinels agree on, with no failover pending. */
  get usable(): boolean {
    return this.redis.status === 'ready' && this.watch.isMaster(this.redis) && !this.watch.fence.fenced;
  }

  /** Waits (bounded) until the connection is usable, e.g. while it follows a failover. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.usable) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return true;
  }
}

export type TxPool = Pool<TxConnection>;

/** The pool; `live` holds its connections while they exist (generic-pool does not list them). */
export function createTxPool(
  cfg: Config['redis'],
  watch: FailoverWatch,
  log: FastifyBaseLogger,
  onRevive: () => void,
  live: Set<TxConnection>,
): TxPool {
  return genericPool.createPool<TxConnection>(
    {
      create: async () => {
        const redis = new Redis({ ...transactionOptions(cfg), lazyConnect: false });
        logConnectionErrors(redis, log, 'transaction');
        reviveOnEnd(redis, log, 'transaction', onRevive);
        followMaster(redis, watch);
        const conn = new TxConnection(redis, watch);
        live.add(conn);
        return conn;
      },
      destroy: (conn) => {
        live.delete(conn);
        return closeClient(conn.redis);
      },
      // Never lend a connection that was closed for good: it would fail every transaction given to it.
      validate: async (conn) => conn.redis.status !== 'end',
    },
    { min: cfg.txPoolSize, max: cfg.txPoolSize, acquireTimeoutMillis: cfg.commandTimeoutMs * 4, testOnBorrow: true },
  );
}

/**
 * Runs `work` with a leased connection. When `work` fails with an error `isClean` accepts (an outcome
 * decided before anything was left pending on the connection), it goes back to the pool; after any other
 * failure (a timeout mid-transaction, a connection not ready) its state is unknown, so it is replaced,
 * without making the request wait for the old one to close. observeWait learns how long the lease took.
 */
export async function withConnection<T>(
  pool: TxPool,
  work: (conn: TxConnection) => Promise<T>,
  isClean: (err: unknown) => boolean,
  observeWait: (seconds: number) => void = () => {},
): Promise<T> {
  const asked = performance.now();
  // Every connection busy for the whole acquire timeout: Redis is too slow or away, not a bug.
  const conn = await pool.acquire().catch(() => {
    throw new ServiceUnavailable();
  });
  observeWait((performance.now() - asked) / 1000);
  try {
    const result = await work(conn);
    await pool.release(conn);
    return result;
  } catch (err) {
    if (isClean(err)) await pool.release(conn);
    else void pool.destroy(conn).catch(() => undefined);
    throw err;
  }
}
