import { createHash } from 'node:crypto';
import { ValidationFailed } from '../errors.js';
import {
  MAX_QUANTITY,
  type CreatePurchaseBody,
  type OrderLine,
  type Purchase,
  type PurchaseLine,
} from '../schemas/purchases.js';

/**
 * A purchase as it is stored (one hash) and as it is read back: `id`, `userId`, `totalCents`, `createdAt`,
 * `status` and `cancelledAt` once cancelled; a one-line purchase's line in `productId`, `quantity`,
 * `unitPriceCents`, as before baskets; a basket's lines in `line:0`, `line:1`, … (`<productId> <quantity>
 * <unitPriceCents>`). Every value stays short (under Redis's hash-max-listpack-value of 64 bytes) and a basket
 * has at most 56 fields (hash-max-listpack-entries: 128), so every purchase is a compact listpack: a JSON list
 * of lines would turn a hash into a hash table and double a purchase's memory. Written before baskets: no
 * `status` — read as `completed`, so no record needs rewriting.
 */

/** The body's lines: one product, or a basket (each product once, all the basket's units at most MAX_QUANTITY). */
export function orderLines(body: CreatePurchaseBody): OrderLine[] {
  const lines = 'items' in body ? body.items : [body];
  const seen = new Set<string>();
  let units = 0;
  for (const line of lines) {
    if (seen.has(line.productId)) throw new ValidationFailed(`Product ${line.productId} is in the basket twice`);
    seen.add(line.productId);
    units += line.quantity;
  }
  if (units > MAX_QUANTITY) throw new ValidationFailed(`A purchase takes at most ${MAX_QUANTITY} units in all`);
  return lines.map(({ productId, quantity }) => ({ productId, quantity }));
}

/**
 * Same user + same key + same fingerprint = the same request. A one-line basket is the same request as the
 * single-product body, and both keep the fingerprint keys stored before baskets carry.
 */
export function fingerprint(lines: OrderLine[]): string {
  const [only] = lines;
  const canonical =
    lines.length === 1 ? [only!.productId, only!.quantity] : lines.map((l) => [l.productId, l.quantity]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/** A new purchase of these lines at these unit prices (aligned with `lines`). */
export function newPurchase(
  id: string,
  userId: string,
  lines: OrderLine[],
  unitPrices: number[],
  createdAt: string,
): Purchase {
  const items: PurchaseLine[] = lines.map((line, i) => ({
    productId: line.productId,
    quantity: line.quantity,
    unitPriceCents: unitPrices[i]!,
    totalCents: unitPrices[i]! * line.quantity,
  }));
  const totalCents = items.reduce((sum, item) => sum + item.totalCents, 0);
  return withTopLevelLine({ id, userId, items, totalCents, status: 'completed', createdAt });
}

/** A one-line purchase shows its line at the top level too, as every purchase did before baskets. */
function withTopLevelLine(purchase: Purchase): Purchase {
  if (purchase.items.length !== 1) return purchase;
  const [line] = purchase.items;
  return { ...purchase, productId: line!.productId, quantity: line!.quantity, unitPriceCents: line!.unitPriceCents };
}

const lineField = (i: number) => `line:${i}`;
const line = (productId: string, quantity: number, unitPriceCents: number): PurchaseLine => ({
  productId,
  quantity,
  unitPriceCents,
  totalCents: quantity * unitPriceCents,
});

/** The hash fields a purchase is stored as. */
export function purchaseFields(purchase: Purchase): Record<string, string> {
  const fields: Record<string, string> = {
    id: purchase.id,
    userId: purchase.userId,
    totalCents: String(purchase.totalCents),
    status: purchase.status,
    createdAt: purchase.createdAt,
  };
  if (purchase.items.length === 1) {
    const [only] = purchase.items;
    fields.productId = only!.productId;
    fields.quantity = String(only!.quantity);
    fields.unitPriceCents = String(only!.unitPriceCents);
  } else {
    purchase.items.forEach((item, i) => {
      fields[lineField(i)] = `${item.productId} ${item.quantity} ${item.unitPriceCents}`;
    });
  }
  if (purchase.cancelledAt) fields.cancelledAt = purchase.cancelledAt;
  return fields;
}

/** A basket's lines, in order (none when the hash is a one-line purchase). */
function basketLines(h: Record<string, string>): PurchaseLine[] {
  const lines: PurchaseLine[] = [];
  for (let i = 0; h[lineField(i)] !== undefined; i++) {
    const [productId, quantity, unitPriceCents] = h[lineField(i)]!.split(' ');
    lines.push(line(productId!, Number(quantity), Number(unitPriceCents)));
  }
  return lines;
}

/** A stored purchase, written before baskets or since. */
export function purchaseFromHash(h: Record<string, string>): Purchase {
  const basket = basketLines(h);
  const items = basket.length > 0 ? basket : [line(h.productId!, Number(h.quantity), Number(h.unitPriceCents))];
  const purchase: Purchase = {
    id: h.id!,
    userId: h.userId!,
    items,
    totalCents: Number(h.totalCents),
    status: h.status === 'cancelled' ? 'cancelled' : 'completed',
    createdAt: h.createdAt!,
  };
  if (h.cancelledAt) purchase.cancelledAt = h.cancelledAt;
  return withTopLevelLine(purchase);
}
