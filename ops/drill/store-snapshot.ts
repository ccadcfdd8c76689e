import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from '../../src/redis/keys.js';
import { parseRecord, type IdempotencyRecord } from '../../src/stores/idempotency.js';
import type { PurchaseOp } from './purchase-op.js';
import type { DrillSetup } from './setup.js';

type Hash = Record<string, string>;

/** What the store holds after the drill, read directly on the master (never through the API under test). */
export interface StoreSnapshot {
  /** Every purchase hash the purchase index reaches, by id. */
  indexed: Map<string, Hash>;
  /** Every purchase id a 201 named, read by id (so one missing from the index is still found); absent: no hash. */
  byId: Map<string, Hash>;
  /** Each drill user's purchase index. */
  userIndex: Map<string, Set<string>>;
  /** Each drill product's stock; NaN when the product hash is gone. */
  stock: Map<string, number>;
  /** Each drill user's idempotency records. */
  records: { userId: string; key: string; record: IdempotencyRecord }[];
}

const CHUNK = 1000;

export async function readSnapshot(
  redis: Redis,
  keys: Keys,
  setup: DrillSetup,
  ops: PurchaseOp[],
): Promise<StoreSnapshot> {
  const indexIds = await redis.zrange(keys.purchaseIndex(), '0', '-1');
  const indexHashes = await pipelined<Hash>(redis, indexIds, (p, id) => p.hgetall(keys.purchase(id)));
  const named = [...new Set(ops.flatMap((op) => op.attempts.flatMap((a) => (a.purchaseId ? [a.purchaseId] : []))))];
  const namedHashes = await pipelined<Hash>(redis, named, (p, id) => p.hgetall(keys.purchase(id)));
  const productIds = setup.products.map((product) => product.id);
  const stocks = await pipelined<string | null>(redis, productIds, (p, id) => p.hget(keys.product(id), 'stock'));
  const userIds = setup.buyers.map((buyer) => buyer.id);
  const userIndexes = await pipelined<string[]>(redis, userIds, (p, id) => p.zrange(keys.userPurchases(id), '0', '-1'));
  const records = (await Promise.all(userIds.map((userId) => recordsOf(redis, keys, userId)))).flat();
  return {
    indexed: new Map(indexIds.flatMap((id, i) => (present(indexHashes[i]) ? [[id, indexHashes[i] as Hash]] : []))),
    byId: new Map(named.flatMap((id, i) => (present(namedHashes[i]) ? [[id, namedHashes[i] as Hash]] : []))),
    userIndex: new Map(userIds.map((id, i) => [id, new Set(userIndexes[i])])),
    stock: new Map(productIds.map((id, i) => [id, stocks[i] == null ? NaN : Number(stocks[i])])),
    records,
  };
}

/** One user's idempotency records: SCAN for their keys (built by keys.ts with a * for the key), then MGET. */
async function recordsOf(redis: Redis, keys: Keys, userId: string): Promise<StoreSnapshot['records']> {
  const prefix = keys.idempotency(userId, '');
  const names: string[] = [];
  for await (const batch of redis.scanStream({ match: keys.idempotency(userId, '*'), count: CHUNK })) {
    names.push(...(batch as string[]));
  }
  const values = await pipelined<string | null>(redis, names, (p, name) => p.get(name));
  return names.flatMap((name, i) => {
    const raw = values[i];
    return raw == null ? [] : [{ userId, key: name.slice(prefix.length), record: parseRecord(raw) }];
  });
}

/** One command per item, sent in pipelines of CHUNK; any error fails the whole read. */
async function pipelined<R>(
  redis: Redis,
  items: string[],
  add: (pipeline: ChainableCommander, item: string) => void,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += CHUNK) {
    const pipeline = redis.pipeline();
    for (const item of items.slice(i, i + CHUNK)) add(pipeline, item);
    for (const [err, value] of (await pipeline.exec()) ?? []) {
      if (err) throw err;
      results.push(value as R);
    }
  }
  return results;
}

// HGETALL of a missing key is an empty object.
const present = (hash: Hash | undefined): boolean => hash !== undefined && Object.keys(hash).length > 0;
