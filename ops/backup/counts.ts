import { Redis } from 'ioredis';
import { keySchema } from '../../src/redis/keys.js';
import type { RedisAuth } from '../../stack/helpers/redis-users.js';
import type { Member } from '../deployment/deployment.js';

/**
 * What a backup's manifest counts and a restore checks on every node. Keys with a TTL (idempotency records,
 * revoked tokens, rate-limit counters) may expire between a backup and its restore, so only the persistent
 * keys are compared: users, products, purchases and every key without a TTL.
 */
export interface KeyCounts {
  users: number;
  products: number;
  purchases: number;
  /** Every key without a TTL (the three entities, their indexes, the username index, …). */
  persistentKeys: number;
  /** Keys with a TTL when counted: recorded, never compared. */
  volatileKeys: number;
}

/** The counts a restore compares (volatileKeys is not one of them). */
export const COMPARED_COUNTS = ['users', 'products', 'purchases', 'persistentKeys'] as const;

const SCAN_COUNT = 1000;

/** Counts on one node (a replica too): one SCAN over the service's hashes, and INFO keyspace. */
export async function countKeys(redis: Redis, keyPrefix: string): Promise<KeyCounts> {
  const keys = keySchema(keyPrefix);
  // A user's purchase list (user:<id>:purchases) is a sorted set: TYPE hash leaves it out.
  const entities = { users: keys.user(''), products: keys.product(''), purchases: keys.purchase('') };
  const counts = { users: 0, products: 0, purchases: 0 };
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', SCAN_COUNT, 'TYPE', 'hash');
    cursor = next;
    for (const key of found) {
      for (const [entity, prefix] of Object.entries(entities) as [keyof typeof entities, string][]) {
        if (key.startsWith(prefix)) counts[entity] += 1;
      }
    }
  } while (cursor !== '0');
  const { keys: all, expires } = keyspace(await redis.info('keyspace'));
  return { ...counts, persistentKeys: all - expires, volatileKeys: expires };
}

/** The counts on one node of a deployment (a replica too), read on the node itself. */
export async function countOn(node: Member, auth: RedisAuth, keyPrefix: string): Promise<KeyCounts> {
  const redis = new Redis({ host: node.host, port: node.port, ...auth, lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await countKeys(redis, keyPrefix);
  } catch (err) {
    throw new Error(`${node.name} (${node.host}:${node.port}): ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

/** db0's keys and expires from INFO keyspace (no db0 line: an empty database). */
export function keyspace(info: string): { keys: number; expires: number } {
  const match = /^db0:keys=(\d+),expires=(\d+)/m.exec(info);
  return { keys: Number(match?.[1] ?? 0), expires: Number(match?.[2] ?? 0) };
}

/** Each compared count that differs, as "purchases: 120 expected, 118 found". */
export function countDifferences(expected: KeyCounts, found: KeyCounts): string[] {
  return COMPARED_COUNTS.filter((name) => expected[name] !== found[name]).map(
    (name) => `${name}: ${expected[name]} expected, ${found[name]} found`,
  );
}

const plural = (n: number, what: string) => `${n.toLocaleString('en')} ${what}${n === 1 ? '' : 's'}`;

export const describeCounts = (c: KeyCounts) =>
  `${plural(c.users, 'user')}, ${plural(c.products, 'product')}, ${plural(c.purchases, 'purchase')} ` +
  `(${plural(c.persistentKeys, 'persistent key')}, ${c.volatileKeys.toLocaleString('en')} with a TTL)`;
