import { v7 as uuidv7 } from 'uuid';
import type { ChainableCommander, Redis } from 'ioredis';
import type { CatalogReads } from '../redis/catalog-reads.js';
import type { ClientCache } from '../redis/cache/client-cache.js';
import type { Keys } from '../redis/keys.js';
import { withConnection, type TxConnection, type TxPool } from '../redis/tx-pool.js';
import type { CreateProductBody, Product, ProductQuery, UpdateProductBody } from '../schemas/products.js';
import { ProductNotFound, ServiceUnavailable, TooMuchContention } from '../errors.js';
import { pageOfIds, readHashes, type Page, type PageRequest } from './pagination.js';
import { hashFields } from './hash-fields.js';
import { CatalogIndex } from './catalog-index.js';
import type { StockEvents } from '../redis/live/stock-events.js';
import { CatalogSearch } from './catalog-search.js';
import { normalizeQuery } from './catalog-query.js';
import { backfillCatalogIndex } from './catalog-backfill.js';

// A PATCH or DELETE that keeps losing its WATCH to concurrent writes of the same product gives up after this many.
const MAX_ATTEMPTS = 10;
// Outcomes after which the leased connection holds nothing pending (no WATCH, no reply in flight).
const leavesConnectionClean = (err: unknown) => err instanceof ProductNotFound || err instanceof TooMuchContention;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const productFromHash = (h: Record<string, string>): Product => ({
  id: h.id!,
  name: h.name!,
  description: h.description ?? '',
  priceCents: Number(h.priceCents),
  stock: Number(h.stock),
  createdAt: h.createdAt!,
  updatedAt: h.updatedAt!,
});

const parseProduct = (h: Record<string, string>) => (h.id ? productFromHash(h) : undefined);

/**
 * The catalog. Reads go to a replica (they may lag by a few milliseconds; catalog-reads.ts chooses which),
 * through the client-side cache, which that replica's invalidations keep exact (redis/cache/); a product a
 * replica does not have yet is looked up on the master before a 404, when the master answers. Stock decisions
 * are never taken here: purchases read stock on the master inside their transaction. Cached products are
 * shared between requests: nothing may change one.
 */
export class ProductStore {
  constructor(
    private readonly master: Redis,
    private readonly reads: CatalogReads,
    private readonly cache: ClientCache,
    private readonly keys: Keys,
    /** Connections for the WATCH/MULTI/EXEC of a PATCH or DELETE (WATCH belongs to a connection). */
    private readonly pool: TxPool,
    /** How long a write waits for its leased connection to reach the agreed master. */
    private readonly connectionWaitMs: number,
    /** A new stock or price, or the deletion, appended to the stock events in the write's own MULTI. */
    private readonly events: StockEvents,
  ) {
    this.index = new CatalogIndex(keys);
    this.searcher = new CatalogSearch(reads, keys, (ids) => this.byIds(ids));
  }

  private readonly index: CatalogIndex;
  private readonly searcher: CatalogSearch;

  async create(input: CreateProductBody): Promise<Product> {
    const now = new Date().toISOString();
    const product: Product = { id: uuidv7(), description: '', ...input, createdAt: now, updatedAt: now };
    const tx = this.master
      .multi()
      .hset(this.keys.product(product.id), ...hashFields(product))
      .zadd(this.keys.productIndex(), 0, product.id);
    this.index.created(tx, product);
    await tx.exec();
    this.cache.changed(this.keys.product(product.id), this.keys.productIndex());
    return product;
  }

  async get(id: string): Promise<Product> {
    const key = { redisKey: this.keys.product(id) };
    const product =
      this.cache.get<Product>('product', key) ??
      (await this.reads.run((redis) =>
        this.cache.loadOne('product', key, redis, () => redis.hgetall(key.redisKey).then(parseProduct)),
      )) ??
      (this.reads.masterAnswers() ? parseProduct(await this.master.hgetall(key.redisKey)) : undefined);
    if (!product) throw new ProductNotFound();
    return product;
  }

  /** GET /products: the plain catalog when no search parameter is given (its cursors as always), else a search. */
  async query({ limit, cursor, ...search }: ProductQuery): Promise<Page<Product>> {
    const query = normalizeQuery(search);
    return query ? this.searcher.search(query, limit, cursor) : this.list({ limit, cursor });
  }

  /** A page: its ids from the index (cached per cursor and size), then the products not cached, in one pipeline. */
  async list(page: PageRequest): Promise<Page<Product>> {
    const index = { redisKey: this.keys.productIndex(), variant: `${page.cursor ?? ''}/${page.limit}` };
    const range =
      this.cache.get<{ ids: string[]; nextCursor: string | null }>('page', index) ??
      (await this.reads.run((redis) =>
        this.cache.loadOne('page', index, redis, () => pageOfIds(redis, index.redisKey, page)),
      ))!;
    const items = await this.byIds(range.ids);
    // A product deleted since its id was listed is skipped, as before.
    return { items: items.filter((item): item is Product => item !== undefined), nextCursor: range.nextCursor };
  }

  /** Products by id, in order: the cached ones, then the others in one pipeline (undefined: no such product). */
  private async byIds(ids: string[]): Promise<(Product | undefined)[]> {
    const keys = ids.map((id) => ({ redisKey: this.keys.product(id) }));
    const items = keys.map((key) => this.cache.get<Product>('product', key));
    const missing = keys.filter((_, i) => items[i] === undefined);
    if (missing.length > 0) {
      const loaded = await this.reads.run((redis) =>
        this.cache.load('product', missing, redis, () =>
          readHashes(
            redis,
            missing.map((key) => key.redisKey),
          ).then((hashes) => hashes.map(parseProduct)),
        ),
      );
      let next = 0;
      for (let i = 0; i < items.length; i++) if (items[i] === undefined) items[i] = loaded[next++];
    }
    return items;
  }

  /** The hash and its search-index entries change in one MULTI, guarded by a WATCH on the product read before it. */
  async update(id: string, patch: UpdateProductBody): Promise<Product> {
    return this.rewrite(id, (tx, before) => {
      const after: Product = { ...before, ...patch, updatedAt: new Date().toISOString() };
      tx.hset(this.keys.product(id), ...hashFields({ ...patch, updatedAt: after.updatedAt }));
      this.index.updated(tx, before, after);
      if (after.stock !== before.stock || after.priceCents !== before.priceCents) {
        this.events.changed(tx, {
          productId: id,
          stock: after.stock,
          priceCents: after.priceCents,
          at: after.updatedAt,
        });
      }
      return after;
    });
  }

  /** Removing the index entries needs the name and price the product has: read under WATCH too. */
  async delete(id: string): Promise<void> {
    await this.rewrite(id, (tx, before) => {
      tx.del(this.keys.product(id)).zrem(this.keys.productIndex(), id);
      this.index.deleted(tx, before);
      const at = new Date().toISOString();
      this.events.deleted(tx, { productId: id, stock: before.stock, priceCents: before.priceCents, at });
      return before;
    });
    this.cache.changed(this.keys.productIndex());
  }

  /**
   * Indexes the products written before the search indexes existed (once per index version: catalog-backfill.ts),
   * between batches giving up when `stopping` says so.
   */
  backfillIndex(stopping?: () => boolean): Promise<number> {
    return withConnection(
      this.pool,
      async (conn) => {
        if (!(await conn.ready(this.connectionWaitMs))) throw new ServiceUnavailable();
        return backfillCatalogIndex(conn, this.keys, this.index, parseProduct, stopping);
      },
      () => false,
    );
  }

  /**
   * WATCH the product, read it, and queue `write` of its current state in a MULTI, on a leased connection; again
   * when a concurrent write (another PATCH, a purchase) changed it in between or the connection was replaced.
   */
  private rewrite(id: string, write: (tx: ChainableCommander, before: Product) => Product): Promise<Product> {
    const key = this.keys.product(id);
    return withConnection(
      this.pool,
      async (conn: TxConnection) => {
        for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
          if (attempt > 0) await pause(Math.random() * Math.min(attempt, 10));
          if (!(await conn.ready(this.connectionWaitMs))) throw new ServiceUnavailable();
          const generation = conn.generation;
          await conn.redis.watch(key);
          const before = parseProduct(await conn.redis.hgetall(key));
          if (!before) {
            await conn.redis.unwatch();
            throw new ProductNotFound();
          }
          // The WATCH died with the socket it was sent on: never EXEC on a newer one.
          if (conn.generation !== generation || !conn.usable) continue;
          const tx = conn.redis.multi();
          const after = write(tx, before);
          const replies = await tx.exec();
          this.cache.changed(key);
          if (replies === null) continue;
          const failed = replies.find(([err]) => err);
          if (failed) throw failed[0];
          return after;
        }
        throw new TooMuchContention();
      },
      leavesConnectionClean,
    );
  }
}
