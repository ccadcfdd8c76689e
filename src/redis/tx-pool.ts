import genericPool, { type Pool } from 'generic-pool';
import type { FastifyBaseLogger } from 'fastify';
import { Redis, closeClient, logConnectionErrors, transactionOptions } from './connections.js';
import type { Config } from '../config.js';

/**
 * WATCH state belongs to a connection, so each WATCH/MULTI/EXEC runs on a connection leased to one request
 * for its whole duration. `generation` changes whenever the socket closes: a transaction that saw it
 * change between WATCH and EXEC must start over, because its WATCH died with the old socket.
 */
export class TxConnection {
  generation = 0;
  constructor(readonly redis: Redis) {
    redis.on('close', () => {
      this.generation += 1;
    });
  }

  /** Waits (bounded) until the connection is usable, e.g. while it follows a failover. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.redis.status !== 'ready') {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return true;
  }
}

export type TxPool = Pool<TxConnection>;

export function createTxPool(cfg: Config['redis'], log: FastifyBaseLogger): TxPool {
  return genericPool.createPool<TxConnection>(
    {
      create: async () => {
        const redis = new Redis({ ...transactionOptions(cfg), lazyConnect: false });
        logConnectionErrors(redis, log, 'transaction');
        return new TxConnection(redis);
      },
      destroy: (conn) => closeClient(conn.redis),
    },
    { min: cfg.txPoolSize, max: cfg.txPoolSize, acquireTimeoutMillis: cfg.commandTimeoutMs * 4 },
  );
}

/**
 * Runs `work` with a leased connection. A domain error (it carries a statusCode) leaves the connection
 * clean and it goes back to the pool; after any other error (a timeout mid-transaction, say) its state is
 * unknown, so it is replaced.
 */
export async function withConnection<T>(pool: TxPool, work: (conn: TxConnection) => Promise<T>): Promise<T> {
  const conn = await pool.acquire();
  try {
    const result = await work(conn);
    await pool.release(conn);
    return result;
  } catch (err) {
    const clean = typeof (err as { statusCode?: unknown }).statusCode === 'number';
    await (clean ? pool.release(conn) : pool.destroy(conn));
    throw err;
  }
}
