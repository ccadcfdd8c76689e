import { v7 as uuidv7 } from 'uuid';
import type { Redis } from 'ioredis';
import type { CatalogReads } from '../redis/catalog-reads.js';
import type { Keys } from '../redis/keys.js';
import type { CreateProductBody, Product, UpdateProductBody } from '../schemas/products.js';
import { ProductNotFound } from '../errors.js';
import { loadPage, type Page, type PageRequest } from './pagination.js';
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

/**
 * The catalog. Reads go to a replica (they may lag by a few milliseconds; catalog-reads.ts chooses which);
 * a product a replica does not have yet is looked up on the master before a 404, when the master answers.
 * Stock decisions are never taken here: purchases read stock on the master inside their transaction.
 */
export class ProductStore {
  constructor(
    private readonly master: Redis,
    private readonly reads: CatalogReads,
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
    return product;
  }

  async get(id: string): Promise<Product> {
    let hash = await this.reads.run((redis) => redis.hgetall(this.keys.product(id)));
    if (!hash.id && this.reads.masterAnswers()) hash = await this.master.hgetall(this.keys.product(id));
    if (!hash.id) throw new ProductNotFound();
    return productFromHash(hash);
  }

  list(page: PageRequest): Promise<Page<Product>> {
    return this.reads.run((redis) =>
      loadPage(redis, this.keys.productIndex(), this.keys.product, productFromHash, page),
    );
  }

  async update(id: string, patch: UpdateProductBody): Promise<Product> {
    const flat = await this.master.updateIfExists(
      this.keys.product(id),
      ...hashFields({ ...patch, updatedAt: new Date().toISOString() }),
    );
    if (flat.length === 0) throw new ProductNotFound();
    const hash: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
    return productFromHash(hash);
  }

  async delete(id: string): Promise<void> {
    const results = await this.master.multi().del(this.keys.product(id)).zrem(this.keys.productIndex(), id).exec();
    if (results?.[0]?.[1] === 0) throw new ProductNotFound();
  }
}
