import type { Keys } from '../redis/keys.js';
import type { TxConnection } from '../redis/tx-pool.js';
import type { Product } from '../schemas/products.js';
import type { CatalogIndex } from './catalog-index.js';

/**
 * The version of the search indexes' entries. Raise it when what an entry holds changes (another word split, a
 * new index): every instance then re-adds every product's entries once at start.
 */
export const CATALOG_INDEX_VERSION = '1';

// Products per WATCH/MULTI: few enough that a concurrent edit rarely aborts a batch, many enough to be quick.
const BATCH = 100;
const MAX_ATTEMPTS = 10;

/**
 * Adds the search-index entries of every product, for products written before the indexes existed; skipped with
 * one GET when the marker says this version is done. It walks the creation index (never the keyspace) in batches,
 * each batch WATCHed, read and indexed in one MULTI, so that an edit made meanwhile by an instance that already
 * maintains the indexes is never overwritten with the entries of the product's older state. Idempotent (ZADD of
 * entries that exist changes nothing): several instances starting at once may each run it. Returns how many
 * products it indexed (0 when skipped).
 */
export async function backfillCatalogIndex(
  conn: TxConnection,
  keys: Keys,
  index: CatalogIndex,
  parse: (hash: Record<string, string>) => Product | undefined,
  stopping: () => boolean = () => false,
): Promise<number> {
  const redis = conn.redis;
  if ((await redis.get(keys.catalogIndexVersion())) === CATALOG_INDEX_VERSION) return 0;
  let indexed = 0;
  let after: string | undefined;
  for (;;) {
    const ids = await redis.zrange(keys.productIndex(), after ? `(${after}` : '-', '+', 'BYLEX', 'LIMIT', 0, BATCH);
    if (ids.length === 0) break;
    // Stopped between batches (the instance is closing): no marker, so the next start goes on with it.
    if (stopping()) return indexed;
    indexed += await indexBatch(conn, keys, index, ids, parse);
    after = ids.at(-1);
  }
  await redis.set(keys.catalogIndexVersion(), CATALOG_INDEX_VERSION);
  return indexed;
}

async function indexBatch(
  conn: TxConnection,
  keys: Keys,
  index: CatalogIndex,
  ids: string[],
  parse: (hash: Record<string, string>) => Product | undefined,
): Promise<number> {
  const redis = conn.redis;
  const productKeys = ids.map((id) => keys.product(id));
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const generation = conn.generation;
    await redis.watch(productKeys);
    const reads = redis.pipeline();
    for (const key of productKeys) reads.hgetall(key);
    const products = ((await reads.exec()) ?? []).map(([err, hash]) => {
      if (err) throw err;
      return parse(hash as Record<string, string>);
    });
    const present = products.filter((p): p is Product => p !== undefined);
    if (present.length === 0) {
      await redis.unwatch();
      return 0;
    }
    // The WATCH died with the socket it was sent on: never EXEC on a newer one.
    if (conn.generation !== generation) continue;
    const tx = redis.multi();
    // `created` adds every entry of the product's current state (ZADD of an entry that exists changes nothing).
    for (const product of present) index.created(tx, product);
    if ((await tx.exec()) !== null) return present.length;
  }
  throw new Error(`the catalog index backfill kept losing its WATCH on products ${ids[0]}…`);
}
