import { Redis, type ChainableCommander } from 'ioredis';
import { v7 as uuidv7 } from 'uuid';
import { keySchema, type Keys } from '../../src/redis/keys.js';
import { CATALOG_INDEX_VERSION } from '../../src/stores/catalog-backfill.js';
import { indexEntries } from '../../src/stores/catalog-index.js';
import { hashFields } from '../../src/stores/hash-fields.js';
import type { Product } from '../../src/schemas/products.js';
import { newPurchase, purchaseFields } from '../../src/stores/purchase-record.js';
import { STOCK, benchPrice, nameWord } from './scenarios.js';
import type { RedisAddress } from './target.js';

/** Entities per pipeline: 5,000 hashes and their index entries in one exec. */
const BATCH = 5000;
const PROGRESS_MS = 3000;
/** How long the replicas may take to apply one batch (a lagging replica stops the load, never swells buffers). */
const REPLICA_WAIT_MS = 60_000;

/** One bulk load: how many, how long (replicas caught up included), the data's memory, the first and last id. */
export interface BulkLoaded {
  count: number;
  seconds: number;
  /** The data's growth on the master (used_memory less client and replication buffers), per entity. */
  bytesEach: number;
  /** UUIDv7 in creation order: every id of an index between these two was bulk-loaded. */
  firstId: string;
  lastId: string;
}

/**
 * Writes products and purchases straight into the master, in pipelines, with exactly the keys, hashes and index
 * entries the stores write (ProductStore.create with its search-index entries from CatalogIndex, PurchaseStore's
 * transaction), ids UUIDv7 as theirs. After each
 * batch, WAIT for every replica: the load goes at the pace the replicas apply it, and ends with them caught up.
 */
export class BulkLoader {
  private readonly keys: Keys;

  private constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly replicas: number,
    private readonly log: (msg: string) => void,
  ) {
    this.keys = keySchema(keyPrefix);
  }

  static async connect(master: RedisAddress, keyPrefix: string, log: (msg: string) => void): Promise<BulkLoader> {
    const redis = new Redis({ ...master, lazyConnect: true });
    await redis.connect();
    const replicas = Number(infoField(await redis.info('replication'), 'connected_slaves'));
    return new BulkLoader(redis, keyPrefix, replicas, log);
  }

  /**
   * `count` products named after the run and a name word (scenarios.ts: what search's q finds), each with plenty
   * of stock, in the search indexes as the service indexes a created product; their ids, in creation order.
   */
  async products(count: number, runId: string): Promise<{ loaded: BulkLoaded; ids: string[] }> {
    // The marker says every product has this version's index entries, so an instance starting skips its backfill
    // (catalog-backfill.ts) rather than walk the million. The loaded ones have them; the ones before do only when
    // the marker was already there (the instances' own backfill done): otherwise it stays unset, and the next
    // instance to start indexes them all (idempotent, the loaded ones included).
    const indexedBefore = (await this.redis.get(this.keys.catalogIndexVersion())) === CATALOG_INDEX_VERSION;
    const ids: string[] = [];
    const loaded = await this.load('products', count, (pipeline, from, to) => {
      const batch: string[] = [];
      // The entries CatalogIndex.created queues for each product, one ZADD per index for the whole batch.
      const entries = new Map<string, string[]>();
      for (let i = from; i < to; i++) {
        const now = new Date().toISOString();
        const product: Product = {
          id: uuidv7(),
          description: '',
          name: `Bench ${runId} bulk ${nameWord(i)} #${i + 1}`,
          priceCents: benchPrice(i),
          stock: STOCK,
          createdAt: now,
          updatedAt: now,
        };
        pipeline.hset(this.keys.product(product.id), ...hashFields(product));
        for (const [key, member] of indexEntries(this.keys, product)) {
          const members = entries.get(key) ?? [];
          members.push(member);
          entries.set(key, members);
        }
        batch.push(product.id);
      }
      pipeline.zadd(this.keys.productIndex(), ...batch.flatMap((id) => [0, id]));
      for (const [key, members] of entries) pipeline.zadd(key, ...members.flatMap((member) => [0, member]));
      ids.push(...batch);
      return batch;
    });
    if (indexedBefore) await this.redis.set(this.keys.catalogIndexVersion(), CATALOG_INDEX_VERSION);
    else this.log('products: no index-version marker before the load: the next instance to start backfills');
    return { loaded, ids };
  }

  /** `count` purchases of 1 to 3 units, by the given buyers, of the given (bulk-loaded) products at their price. */
  async purchases(count: number, userIds: string[], productIds: string[]): Promise<BulkLoaded> {
    return this.load('purchases', count, (pipeline, from, to) => {
      const batch: string[] = [];
      const byUser = new Map<string, string[]>();
      for (let i = from; i < to; i++) {
        const product = Math.floor(Math.random() * productIds.length);
        const userId = userIds[i % userIds.length]!;
        const quantity = 1 + (i % 3);
        const line = { productId: productIds[product]!, quantity };
        const purchase = newPurchase(uuidv7(), userId, [line], [benchPrice(product)], new Date().toISOString());
        pipeline.hset(this.keys.purchase(purchase.id), purchaseFields(purchase));
        batch.push(purchase.id);
        const ofUser = byUser.get(userId) ?? [];
        ofUser.push(purchase.id);
        byUser.set(userId, ofUser);
      }
      pipeline.zadd(this.keys.purchaseIndex(), ...batch.flatMap((id) => [0, id]));
      for (const [userId, ids] of byUser)
        pipeline.zadd(this.keys.userPurchases(userId), ...ids.flatMap((id) => [0, id]));
      return batch;
    });
  }

  close(): Promise<'OK'> {
    return this.redis.quit();
  }

  /** Batches of `write` (which returns the ids it wrote), one pipeline built while the previous one runs. */
  private async load(
    what: string,
    count: number,
    write: (pipeline: ChainableCommander, from: number, to: number) => string[],
  ): Promise<BulkLoaded> {
    await this.caughtUp();
    const memoryBefore = await this.dataMemory();
    const started = performance.now();
    let logged = started;
    let firstId = '';
    let lastId = '';
    let previous: Promise<void> = Promise.resolve();
    for (let from = 0; from < count; from += BATCH) {
      const to = Math.min(count, from + BATCH);
      const pipeline = this.redis.pipeline();
      const ids = write(pipeline, from, to);
      firstId ||= ids[0] ?? '';
      lastId = ids.at(-1) ?? lastId;
      await previous;
      previous = this.execAndWait(pipeline);
      if (performance.now() - logged >= PROGRESS_MS) {
        logged = performance.now();
        const rate = Math.round(from / ((logged - started) / 1000));
        this.log(`${what}: ${from.toLocaleString('en')} of ${count.toLocaleString('en')} (${rate}/s)`);
      }
    }
    await previous;
    const seconds = (performance.now() - started) / 1000;
    const bytesEach = ((await this.dataMemory()) - memoryBefore) / count;
    this.log(`${what}: ${count.toLocaleString('en')} in ${seconds.toFixed(1)} s, ${Math.round(bytesEach)} bytes each`);
    return { count, seconds, bytesEach, firstId, lastId };
  }

  private async execAndWait(pipeline: ChainableCommander): Promise<void> {
    const failed = ((await pipeline.exec()) ?? []).find(([err]) => err);
    if (failed) throw failed[0];
    await this.caughtUp();
  }

  private async caughtUp(): Promise<void> {
    const acked = await this.redis.wait(this.replicas, REPLICA_WAIT_MS);
    if (acked < this.replicas)
      throw new Error(`${acked} of ${this.replicas} replicas caught up in ${REPLICA_WAIT_MS} ms`);
  }

  /** used_memory less what clients and replication hold for the moment: the data's own memory. */
  private async dataMemory(): Promise<number> {
    const info = await this.redis.info('memory');
    const buffers = ['mem_clients_normal', 'mem_clients_slaves', 'mem_replication_backlog', 'mem_aof_buffer'];
    return buffers.reduce(
      (total, field) => total - Number(infoField(info, field)),
      Number(infoField(info, 'used_memory')),
    );
  }
}

function infoField(info: string, field: string): string {
  const value = new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
  if (value === undefined) throw new Error(`INFO has no ${field}`);
  return value;
}
