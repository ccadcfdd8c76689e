import type { CatalogReads } from '../redis/catalog-reads.js';
import type { Keys } from '../redis/keys.js';
import type { Product } from '../schemas/products.js';
import { WORD_ENTRY_CHARS, cutText, idOfMember, paddedPrice } from './catalog-index.js';
import {
  compareMembers,
  decodeSearchCursor,
  descending,
  encodeSearchCursor,
  productMatches,
  queryFingerprint,
  sortMember,
  type CatalogQuery,
} from './catalog-query.js';
import type { Page } from './pagination.js';

// Index entries read per request at most: a page costs the same in a catalog of any size. A rare filter may then
// answer a short (even empty) page with a cursor that goes on from where it stopped.
const SCAN_BUDGET = 250;
// A walk's batches: sized from the filter's share of the catalog when it is known (with this margin), else the
// page; each next batch this many times the last, within the budget.
const MARGIN = 1.25;
const GROWTH = 4;
/** A filter whose range holds at most this many entries is read whole and sorted here (no page comes up short). */
const CANDIDATE_CAP = 250;

// No member holds the byte 0xff (UTF-8 never does): `[x` … `[x\xff` is every member that starts with x.
const HIGH = Buffer.from([0xff]);
const inclusive = (text: string) => Buffer.from(`[${text}`, 'utf8');
const prefixEnd = (text: string) => Buffer.concat([inclusive(text), HIGH]);
const exclusive = (member: string) => Buffer.from(`(${member}`, 'utf8');

type Bound = Buffer | '-' | '+';

/** A lex range of one index: [low, high] in the index's order. */
interface Range {
  key: string;
  low: Bound;
  high: Bound;
}

/** Reads products by id through the client cache (undefined: no such product any more). */
export type LoadProducts = (ids: string[]) => Promise<(Product | undefined)[]>;

interface Found {
  product: Product;
  member: string;
}

/**
 * The catalog's search. The index of the requested order drives (creation, in-stock, price or name index, all
 * lex sorted sets: catalog-index.ts) and every product it proposes is checked against its hash, which decides:
 * an entry a replica applied before the hash, or one a purchase left behind, never shows a wrong product.
 * When q or a price range selects few products, their range is read whole instead and sorted here.
 */
export class CatalogSearch {
  constructor(
    private readonly reads: CatalogReads,
    private readonly keys: Keys,
    private readonly load: LoadProducts,
  ) {}

  async search(query: CatalogQuery, limit: number, cursor?: string): Promise<Page<Product>> {
    const fingerprint = queryFingerprint(query);
    const after = cursor === undefined ? undefined : decodeSearchCursor(cursor, fingerprint, query.sort);
    const { candidates, share } = await this.plan(query);
    const { found, next } = candidates
      ? await this.sortCandidates(query, candidates, limit, after)
      : await this.walk(query, limit, after, share);
    return {
      items: found.map((f) => f.product),
      nextCursor: next === undefined ? null : encodeSearchCursor(fingerprint, next),
    };
  }

  /**
   * The selective filters' ranges (q, price) counted (ZLEXCOUNT: O(log n), nothing transferred) beside the catalog's
   * size. The smallest, when it holds at most CANDIDATE_CAP entries, is read whole: the candidates. Otherwise the
   * order's index is walked, and the smallest range's share of the catalog says how much of it to read at once.
   */
  private async plan(query: CatalogQuery): Promise<{ candidates?: string[]; share?: number }> {
    const ranges: Range[] = [];
    if (query.q !== undefined) {
      const q = cutText(query.q, WORD_ENTRY_CHARS);
      ranges.push({ key: this.keys.productWords(), low: inclusive(q), high: prefixEnd(q) });
    }
    if (query.minPriceCents !== undefined || query.maxPriceCents !== undefined) ranges.push(this.priceRange(query));
    if (ranges.length === 0) return {};
    const counts = await this.reads.run(async (redis) => {
      const pipeline = redis.pipeline();
      for (const r of ranges) pipeline.zlexcount(r.key, r.low, r.high);
      pipeline.zcard(this.keys.productIndex());
      return ((await pipeline.exec()) ?? []).map(([err, count]) => {
        if (err) throw err;
        return count as number;
      });
    });
    const total = counts.pop()!;
    const smallest = counts.indexOf(Math.min(...counts));
    const range = ranges[smallest]!;
    if (counts[smallest]! <= CANDIDATE_CAP) {
      const members = await this.reads.run((redis) =>
        redis.zrange(range.key, range.low, range.high, 'BYLEX', 'LIMIT', 0, CANDIDATE_CAP + 1),
      );
      // It grew past the cap since it was counted: walk after all.
      if (members.length <= CANDIDATE_CAP) return { candidates: [...new Set(members.map(idOfMember))] };
    }
    return { share: total > 0 ? Math.min(1, counts[smallest]! / total) : 1 };
  }

  /** Few candidates: all of them checked, sorted, and the page after the cursor taken. */
  private async sortCandidates(query: CatalogQuery, ids: string[], limit: number, after: string | undefined) {
    const products = await this.load(ids);
    const order = descending(query.sort) ? -1 : 1;
    const found: Found[] = products
      .filter((p): p is Product => p !== undefined && productMatches(query, p))
      .map((product) => ({ product, member: sortMember(query.sort, product) }))
      .filter((f) => after === undefined || compareMembers(f.member, after) * order > 0)
      .sort((a, b) => compareMembers(a.member, b.member) * order);
    const more = found.length > limit;
    return { found: found.slice(0, limit), next: more ? found[limit - 1]!.member : undefined };
  }

  /**
   * Many candidates: the order's index walked in batches after the cursor, until the page is full or the budget
   * spent. The first batch is what a filter of this share of the catalog needs for a page (so a tenth of it: ten
   * pages' worth, one round trip), the page itself when the share is not known; each next one GROWTH times larger.
   */
  private async walk(query: CatalogQuery, limit: number, after: string | undefined, share?: number) {
    const range = this.orderRange(query);
    const desc = descending(query.sort);
    let last = after;
    const end = desc ? range.low : range.high;
    const found: Found[] = [];
    let examined = 0;
    let batch = Math.ceil(((limit + 1) / Math.max(share ?? 1, 1e-9)) * (share === undefined ? 1 : MARGIN));
    while (examined < SCAN_BUDGET) {
      const count = Math.min(batch, SCAN_BUDGET - examined);
      batch *= GROWTH;
      const start: Bound = last === undefined ? (desc ? range.high : range.low) : exclusive(last);
      const members = await this.reads.run((redis) =>
        desc
          ? redis.zrange(range.key, start, end, 'BYLEX', 'REV', 'LIMIT', 0, count)
          : redis.zrange(range.key, start, end, 'BYLEX', 'LIMIT', 0, count),
      );
      examined += members.length;
      const products = await this.load(members.map(idOfMember));
      // Each index walked has the order's member as its member. One that no longer says what the hash says (the
      // product changed since the entry was read) is not the product's place: it is met again at its new one.
      members.forEach((member, i) => {
        const product = products[i];
        if (product && productMatches(query, product) && sortMember(query.sort, product) === member) {
          found.push({ product, member });
        }
      });
      if (found.length > limit) return { found: found.slice(0, limit), next: found[limit - 1]!.member };
      if (members.length < count) return { found, next: undefined };
      last = members.at(-1)!;
    }
    // Budget spent: what was found so far, and a cursor after the last entry examined.
    return { found, next: last };
  }

  /** The index and range that yield the query's order (filters that the order's index cannot apply are checked). */
  private orderRange(query: CatalogQuery): Range {
    if (query.sort === 'price' || query.sort === '-price') return this.priceRange(query);
    if (query.sort === 'name') return { key: this.keys.productsByName(), low: '-', high: '+' };
    const key = query.inStock ? this.keys.productsInStock() : this.keys.productIndex();
    return { key, low: '-', high: '+' };
  }

  private priceRange(query: CatalogQuery): Range {
    const { minPriceCents: min, maxPriceCents: max } = query;
    return {
      key: this.keys.productsByPrice(),
      low: min === undefined ? '-' : inclusive(paddedPrice(min)),
      high: max === undefined ? '+' : prefixEnd(paddedPrice(max)),
    };
  }
}
