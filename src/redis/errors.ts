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
