import { Redis } from 'ioredis';
import type { RedisAuth } from './redis-users.js';

// A paused node accepts connections but never answers: every probe is bounded.
const PROBE_TIMEOUT_MS = 500;

/** One command on a fresh connection, answered within PROBE_TIMEOUT_MS or rejected. */
export async function command(
  host: string,
  port: number,
  auth: RedisAuth | undefined,
  [name, ...args]: [string, ...string[]],
): Promise<unknown> {
  const client = new Redis({
    host,
    port,
    username: auth?.username,
    password: auth?.password,
    protocol: 2, // flat arrays for ROLE and SENTINEL replies
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // The socket's own error (e.g. ECONNREFUSED) says more than the rejection ("Connection is closed.").
  let socketError: Error | undefined;
  client.on('error', (err: Error) => (socketError = err));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer from ${host}:${port} within ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([client.connect().then(() => client.call(name, ...args)), timeout]);
  } catch (err) {
    throw socketError ?? err;
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** A flat [key, value, key, value, ...] reply as a record. */
export function pairs(reply: unknown): Record<string, string> {
  const items = Array.isArray(reply) ? reply.map(String) : [];
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < items.length; i += 2) record[items[i] as string] = items[i + 1] as string;
  return record;
}
