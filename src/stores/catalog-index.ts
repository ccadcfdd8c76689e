import type { ChainableCommander } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/** What the search indexes know of a product. */
export interface IndexedFields {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
}

/** Ends the sort part of a member: it sorts before every character, so "kettle" comes before "kettles". */
export const SEP = '\u0000';
/** A word entry keeps this many code points (q's maximum): enough to tell any q apart; the hash decides the rest. */
export const WORD_ENTRY_CHARS = 100;
// MAX_CENTS (10^12) has 13 digits: zero-padded prices sort lexicographically as numbers.
const PRICE_DIGITS = 13;

/** A name's words, lower-cased: runs of letters and digits (so "Café-Noir" is "café", "noir"). */
export const words = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 0);

/** A text as q matches it: its words joined by one space. */
export const normalizeText = (text: string): string => words(text).join(' ');

/** At most `n` code points (never half a surrogate pair). */
export function cutText(text: string, n: number): string {
  const points = Array.from(text);
  return points.length > n ? points.slice(0, n).join('') : text;
}

/** Whether a normalized q starts one of the name's words (and the words after it, when q has several). */
export const nameMatches = (name: string, normalizedQ: string): boolean =>
  normalizedMatches(normalizeText(name), normalizedQ);

/** nameMatches for a name already normalized (normalizeText). */
export const normalizedMatches = (normalizedName: string, normalizedQ: string): boolean =>
  normalizedName.startsWith(normalizedQ) || normalizedName.includes(` ${normalizedQ}`);

/** A price as the price index sorts it: zero-padded to MAX_CENTS's width. */
export const paddedPrice = (priceCents: number) => String(priceCents).padStart(PRICE_DIGITS, '0');
export const priceMember = (priceCents: number, id: string) => `${paddedPrice(priceCents)}${SEP}${id}`;
export const nameMember = (name: string, id: string) => `${name.toLowerCase()}${SEP}${id}`;

/** One member per word: the name from that word on, so that a q of several words matches as a phrase. */
export function wordMembers(name: string, id: string): string[] {
  const all = words(name);
  const members = new Set<string>();
  for (let i = 0; i < all.length; i++) members.add(`${cutText(all.slice(i).join(' '), WORD_ENTRY_CHARS)}${SEP}${id}`);
  return [...members];
}

/** The product id a member of any catalog index ends with (the creation and in-stock indexes hold bare ids). */
export const idOfMember = (member: string) => member.slice(member.lastIndexOf(SEP) + 1);

/** One index entry: the sorted set's key and the member (always with score 0). */
export type IndexEntry = [key: string, member: string];

/** Every search-index entry of a product in this state. */
export function indexEntries(keys: Keys, product: IndexedFields): IndexEntry[] {
  const entries: IndexEntry[] = [
    [keys.productsByPrice(), priceMember(product.priceCents, product.id)],
    [keys.productsByName(), nameMember(product.name, product.id)],
    ...wordMembers(product.name, product.id).map((member): IndexEntry => [keys.productWords(), member]),
  ];
  if (product.stock > 0) entries.push([keys.productsInStock(), product.id]);
  return entries;
}

/** What a change of state does to the indexes: only the entries that differ are removed or added. */
export function indexChanges(
  keys: Keys,
  before: IndexedFields,
  after: IndexedFields,
): { remove: IndexEntry[]; add: IndexEntry[] } {
  const old = indexEntries(keys, before);
  const now = indexEntries(keys, after);
  // Keys never hold a space (KEY_PREFIX's pattern), so `key member` names an entry unambiguously.
  const name = ([key, member]: IndexEntry) => `${key} ${member}`;
  const oldNames = new Set(old.map(name));
  const newNames = new Set(now.map(name));
  return {
    remove: old.filter((entry) => !newNames.has(name(entry))),
    add: now.filter((entry) => !oldNames.has(name(entry))),
  };
}

function queue(tx: ChainableCommander, remove: IndexEntry[], add: IndexEntry[]): void {
  const byKey = (entries: IndexEntry[]) => {
    const grouped = new Map<string, string[]>();
    for (const [key, member] of entries) grouped.set(key, [...(grouped.get(key) ?? []), member]);
    return grouped;
  };
  for (const [key, members] of byKey(remove)) tx.zrem(key, ...members);
  for (const [key, members] of byKey(add)) tx.zadd(key, ...members.flatMap((member) => [0, member]));
}

/**
 * Queues the search-index changes of a product's writes on the caller's MULTI (or pipeline), so that they commit
 * or abort with the write itself. The caller must know the product's state before the write (read under WATCH):
 * the entries to remove are computed from it.
 */
export class CatalogIndex {
  constructor(private readonly keys: Keys) {}

  created(tx: ChainableCommander, product: IndexedFields): void {
    queue(tx, [], indexEntries(this.keys, product));
  }

  updated(tx: ChainableCommander, before: IndexedFields, after: IndexedFields): void {
    const { remove, add } = indexChanges(this.keys, before, after);
    queue(tx, remove, add);
  }

  deleted(tx: ChainableCommander, product: IndexedFields): void {
    queue(tx, indexEntries(this.keys, product), []);
  }

  /**
   * For a write that changes only a product's stock (a purchase): queue it inside the MULTI that changes the
   * stock, with the stock read under WATCH (`oldStock`) and the stock the MULTI leaves (`newStock`). Adds or
   * removes the product's in-stock entry when the stock crosses zero; queues nothing otherwise.
   */
  stockChanged(tx: ChainableCommander, id: string, oldStock: number, newStock: number): void {
    if (oldStock > 0 && newStock <= 0) tx.zrem(this.keys.productsInStock(), id);
    if (oldStock <= 0 && newStock > 0) tx.zadd(this.keys.productsInStock(), 0, id);
  }
}
