import { v7 as uuidv7 } from 'uuid';
import type { Redis } from 'ioredis';
import type { CatalogReads } from '../redis/catalog-reads.js';
import type { ClientCache } from '../redis/cache/client-cache.js';
import type { Keys } from '../redis/keys.js';
import type { CreateProductBody, Product, UpdateProductBody } from '../schemas/products.js';
import { ProductNotFound } from '../errors.js';
import { pageOfIds, readHashes, type Page, type PageRequest } from './pagination.js';
import { hashFields } from './hash-fields.js';

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
  ) {}

  async create(input: CreateProductBody): Promise<Product> {
    const now = new Date().toISOString();
    const product: Product = { id: uuidv7(), description: '', ...input, createdAt: now, updatedAt: now };
    await this.master
      .multi()
      .hset(this.keys.product(product.id), ...hashFields(product))
      .zadd(this.keys.productIndex(), 0, product.id)
      .exec();
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

  /** A page: its ids from the index (cached per cursor and size), then the products not cached, in one pipeline. */
  async list(page: PageRequest): Promise<Page<Product>> {
    const index = { redisKey: this.keys.productIndex(), variant: `${page.cursor ?? ''}/${page.limit}` };
    const range =
      this.cache.get<{ ids: string[]; nextCursor: string | null }>('page', index) ??
      (await this.reads.run((redis) =>
        this.cache.loadOne('page', index, redis, () => pageOfIds(redis, index.redisKey, page)),
      ))!;
    const keys = range.ids.map((id) => ({ redisKey: this.keys.product(id) }));
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
    // A product deleted since its id was listed is skipped, as before.
    return { items: items.filter((item): item is Product => item !== undefined), nextCursor: range.nextCursor };
  }

  async update(id: string, patch: UpdateProductBody): Promise<Product> {
    const flat = await this.master.updateIfExists(
      this.keys.product(id),
      ...hashFields({ ...patch, updatedAt: new Date().toISOString() }),
    );
    this.cache.changed(this.keys.product(id));
    if (flat.length === 0) throw new ProductNotFound();
    const hash: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
    return productFromHash(hash);
  }

  async delete(id: string): Promise<void> {
    const results = await this.master.multi().del(this.keys.product(id)).zrem(this.keys.productIndex(), id).exec();
    this.cache.changed(this.keys.product(id), this.keys.productIndex());
    if (results?.[0]?.[1] === 0) throw new ProductNotFound();
  }
}
