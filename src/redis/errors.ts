import redisErrors from 'redis-errors';

// CommonJS: its classes are properties of the default export under Node's ESM loader.
const { RedisError } = redisErrors;

// ioredis rejects with a plain Error, not a class of its own, in exactly these cases.
const IOREDIS_PLAIN_ERRORS = ['Command timed out', 'Connection is closed.', "Stream isn't writeable", 'Socket timeout'];

/**
 * Whether an error means "Redis is out of reach or failing over" (retry shortly), as opposed to a bug.
 * By class: every reply error (NOREPLICAS, READONLY, LOADING, EXECABORT, OOM, …) and every aborted
 * command (a connection closed under it, retries exhausted) is a RedisError. By message only where
 * ioredis gives no class.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (err instanceof RedisError) return true;
  return (
    err instanceof Error && err.constructor === Error && IOREDIS_PLAIN_ERRORS.some((m) => err.message.startsWith(m))
  );
}

/** Why a master refused a write: no memory left (maxmemory with noeviction), or it cannot persist (its disk). */
export type WriteRefusal = 'memory' | 'disk';

/**
 * A write Redis refused whole because the master cannot take writes now, or undefined: `OOM` (used memory over
 * maxmemory, noeviction) and `MISCONF` (its last AOF write or RDB save failed). Redis refuses such a command before
 * it runs — in a MULTI, at queue time, so EXEC discards the transaction; in a script, at its first write — so
 * nothing of the request was written. ioredis's EXECABORT carries the queued command's error in previousErrors.
 */
export function writeRefusal(err: unknown): WriteRefusal | undefined {
  if (!(err instanceof RedisError)) return undefined;
  const causes = [err, ...((err as { previousErrors?: unknown[] }).previousErrors ?? [])];
  for (const cause of causes) {
    const message = cause instanceof Error ? cause.message : '';
    if (message.startsWith('OOM ')) return 'memory';
    if (message.startsWith('MISCONF ')) return 'disk';
  }
  return undefined;
}
