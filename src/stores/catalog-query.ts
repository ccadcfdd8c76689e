import { createHash } from 'node:crypto';
import { InvalidCursor, ValidationFailed } from '../errors.js';
import type { Product, ProductQuery } from '../schemas/products.js';
import { SEP, nameMember, normalizeText, normalizedMatches, priceMember } from './catalog-index.js';

export type Sort = 'newest' | 'price' | '-price' | 'name';

/** A search in its one normal form: two spellings of the same search share their cursors. */
export interface CatalogQuery {
  /** normalized (normalizeText): lower-cased words joined by one space */
  q?: string;
  minPriceCents?: number;
  maxPriceCents?: number;
  inStock?: true;
  sort: Sort;
}

/**
 * The search a request asks for, or undefined when it asks for none: the plain catalog, oldest first, with the
 * cursors it has always had (inStock=false is no constraint, so it is the plain catalog too). Any search, and an
 * explicit sort=newest, lists newest first unless it asks for another order.
 */
export function normalizeQuery(input: Omit<ProductQuery, 'limit' | 'cursor'>): CatalogQuery | undefined {
  const query: CatalogQuery = { sort: input.sort ?? 'newest' };
  if (input.q !== undefined) {
    query.q = normalizeText(input.q);
    if (query.q === '') throw new ValidationFailed('q must contain a letter or a digit');
  }
  if (input.minPriceCents !== undefined) query.minPriceCents = input.minPriceCents;
  if (input.maxPriceCents !== undefined) query.maxPriceCents = input.maxPriceCents;
  if ((query.minPriceCents ?? 0) > (query.maxPriceCents ?? Infinity)) {
    throw new ValidationFailed('minPriceCents is above maxPriceCents');
  }
  if (input.inStock === 'true') query.inStock = true;
  const plain = input.sort === undefined && Object.keys(query).length === 1;
  return plain ? undefined : query;
}

/** A short hash of the normalized search: what binds a cursor to it. */
export function queryFingerprint(query: CatalogQuery): string {
  const { q, minPriceCents, maxPriceCents, inStock, sort } = query;
  const canonical = JSON.stringify([q ?? null, minPriceCents ?? null, maxPriceCents ?? null, inStock ?? false, sort]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

// A product read from the client cache is one shared, never-changed object: its name is normalized once while it
// is cached, not once per search that examines it (a walk examines up to 250 products per request).
const normalizedNames = new WeakMap<Product, string>();
function normalizedName(product: Product): string {
  let normalized = normalizedNames.get(product);
  if (normalized === undefined) {
    normalized = normalizeText(product.name);
    normalizedNames.set(product, normalized);
  }
  return normalized;
}

/** Whether a product (as its hash says now) satisfies the search's filters. */
export function productMatches(query: CatalogQuery, product: Product): boolean {
  if (query.q !== undefined && !normalizedMatches(normalizedName(product), query.q)) return false;
  if (query.minPriceCents !== undefined && product.priceCents < query.minPriceCents) return false;
  if (query.maxPriceCents !== undefined && product.priceCents > query.maxPriceCents) return false;
  if (query.inStock && !(product.stock > 0)) return false;
  return true;
}

/** A product's place in the order: its member in the index of that order (newest: the creation index's id). */
export function sortMember(sort: Sort, product: Product): string {
  if (sort === 'price' || sort === '-price') return priceMember(product.priceCents, product.id);
  if (sort === 'name') return nameMember(product.name, product.id);
  return product.id;
}

/** Whether the order runs from the index's last member down (newest: the creation index's ids are UUIDv7). */
export const descending = (sort: Sort) => sort === '-price' || sort === 'newest';

/** Redis's order of lex members: their UTF-8 bytes (JavaScript's < compares UTF-16 units, which differs). */
export const compareMembers = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const MEMBER_SHAPES: Record<Sort, RegExp> = {
  newest: new RegExp(`^${ID}$`),
  price: new RegExp(`^\\d{13}${SEP}${ID}$`),
  '-price': new RegExp(`^\\d{13}${SEP}${ID}$`),
  name: new RegExp(`^[^]*${SEP}${ID}$`),
};

/** An opaque token: the search's fingerprint and the member of the last product the client was given. */
export const encodeSearchCursor = (fingerprint: string, member: string) =>
  Buffer.from(`${fingerprint}.${member}`, 'utf8').toString('base64url');

/** The member to continue after; InvalidCursor when the token is damaged or belongs to another search. */
export function decodeSearchCursor(cursor: string, fingerprint: string, sort: Sort): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(`${fingerprint}.`)) throw new InvalidCursor();
  const member = text.slice(fingerprint.length + 1);
  if (!MEMBER_SHAPES[sort].test(member)) throw new InvalidCursor();
  return member;
}
