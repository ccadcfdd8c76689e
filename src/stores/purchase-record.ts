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
 * A purchase as it is stored (one hash) and as it is read back. Written since baskets: `items` (JSON of its
 * lines), `totalCents`, `status`, `cancelledAt` once cancelled, and for a one-line purchase also `productId`,
 * `quantity`, `unitPriceCents`. Written before: only the one line's fields — read as a one-line `completed`
 * purchase, so no record needs rewriting.
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

/** The hash fields a purchase is stored as. */
export function purchaseFields(purchase: Purchase): Record<string, string> {
  const fields: Record<string, string> = {
    id: purchase.id,
    userId: purchase.userId,
    items: JSON.stringify(purchase.items),
    totalCents: String(purchase.totalCents),
    status: purchase.status,
    createdAt: purchase.createdAt,
  };
  if (purchase.items.length === 1) {
    fields.productId = purchase.productId!;
    fields.quantity = String(purchase.quantity);
    fields.unitPriceCents = String(purchase.unitPriceCents);
  }
  if (purchase.cancelledAt) fields.cancelledAt = purchase.cancelledAt;
  return fields;
}

/** A stored purchase, written before baskets or since. */
export function purchaseFromHash(h: Record<string, string>): Purchase {
  const items: PurchaseLine[] = h.items
    ? (JSON.parse(h.items) as PurchaseLine[])
    : [
        {
          productId: h.productId!,
          quantity: Number(h.quantity),
          unitPriceCents: Number(h.unitPriceCents),
          totalCents: Number(h.totalCents),
        },
      ];
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
