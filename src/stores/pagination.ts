import type { Redis } from 'ioredis';
import { InvalidCursor } from '../errors.js';

/**
 * Cursor pagination over a lexicographic index (members are UUIDv7 ids with score 0, so lex order is
 * creation order). The cursor is the last id of the previous page, encoded so clients treat it as opaque.
 */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
  newestFirst?: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');

export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ID.test(id)) throw new InvalidCursor();
  return id;
}

/** One page of ids from the index, plus the cursor of the next page (null on the last one). */
export async function pageOfIds(
  redis: Redis,
  indexKey: string,
  page: PageRequest,
): Promise<{ ids: string[]; nextCursor: string | null }> {
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const ids = page.newestFirst
    ? await redis.zrange(indexKey, after ? `(${after}` : '+', '-', 'BYLEX', 'REV', 'LIMIT', 0, page.limit + 1)
    : await redis.zrange(indexKey, after ? `(${after}` : '-', '+', 'BYLEX', 'LIMIT', 0, page.limit + 1);
  const hasMore = ids.length > page.limit;
  const pageIds = hasMore ? ids.slice(0, page.limit) : ids;
  return { ids: pageIds, nextCursor: hasMore ? encodeCursor(pageIds[pageIds.length - 1]!) : null };
}

/** HGETALL of many hashes in one round trip, in order (an empty object for a hash that does not exist). */
export async function readHashes(redis: Redis, keys: string[]): Promise<Record<string, string>[]> {
  if (keys.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.hgetall(key);
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, hash]) => {
    if (err) throw err;
    return hash as Record<string, string>;
  });
}

/** HGETALL of many hashes in one round trip; ids whose hash vanished meanwhile are skipped. */
export async function loadHashes<T>(
  redis: Redis,
  keys: string[],
  fromHash: (h: Record<string, string>) => T,
): Promise<T[]> {
  const hashes = await readHashes(redis, keys);
  return hashes.filter((hash) => Object.keys(hash).length > 0).map(fromHash);
}

/** A page of entities: the ids from the index, then their hashes. */
export async function loadPage<T>(
  redis: Redis,
  indexKey: string,
  keyOf: (id: string) => string,
  fromHash: (h: Record<string, string>) => T,
  page: PageRequest,
): Promise<Page<T>> {
  const { ids, nextCursor } = await pageOfIds(redis, indexKey, page);
  return { items: await loadHashes(redis, ids.map(keyOf), fromHash), nextCursor };
}
