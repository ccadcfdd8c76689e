import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, PageQuerySchema, TimestampSchema } from './common.js';

export const PurchaseLineSchema = Type.Object(
  { productId: IdSchema, quantity: Type.Integer(), unitPriceCents: Type.Integer(), totalCents: Type.Integer() },
  { additionalProperties: false },
);

export const PURCHASE_STATUSES = ['completed', 'cancelled'] as const;

/**
 * A purchase: its lines, their total, its status. A purchase of one line also keeps that line's productId,
 * quantity and unitPriceCents at the top level, as every purchase had before baskets.
 */
export const PurchaseSchema = Type.Object(
  {
    id: IdSchema,
    userId: IdSchema,
    productId: Type.Optional(IdSchema),
    quantity: Type.Optional(Type.Integer()),
    unitPriceCents: Type.Optional(Type.Integer()),
    items: Type.Array(PurchaseLineSchema),
    totalCents: Type.Integer(),
    status: Type.Union(PURCHASE_STATUSES.map((s) => Type.Literal(s))),
    createdAt: TimestampSchema,
    cancelledAt: Type.Optional(TimestampSchema),
  },
  { $id: 'Purchase', additionalProperties: false },
);

/**
 * The most units one purchase takes, over all its lines. A total is MAX_CENTS × MAX_QUANTITY = 10^15 cents at most,
 * below 2^53: exact as a JavaScript number, as a Redis integer, and in JSON.
 */
export const MAX_QUANTITY = 1000;
/** The most lines a basket has. */
export const MAX_LINES = 50;

const QuantitySchema = Type.Integer({ minimum: 1, maximum: MAX_QUANTITY });
const SingleItemBodySchema = Type.Object(
  { productId: IdSchema, quantity: QuantitySchema },
  { additionalProperties: false },
);
const BasketBodySchema = Type.Object(
  {
    items: Type.Array(Type.Object({ productId: IdSchema, quantity: QuantitySchema }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: MAX_LINES,
    }),
  },
  { additionalProperties: false },
);

/** One product and a quantity, as always; or a basket of 1–50 lines, each product at most once, all or nothing. */
export const CreatePurchaseBodySchema = Type.Union([SingleItemBodySchema, BasketBodySchema]);

export const PurchaseHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'Makes a retry safe: same key and body return the original purchase',
    }),
  ),
});

export const ListPurchasesQuerySchema = Type.Composite(
  [PageQuerySchema, Type.Object({ userId: Type.Optional(IdSchema) })],
  { additionalProperties: false },
);

export type Purchase = Static<typeof PurchaseSchema>;
export type PurchaseLine = Static<typeof PurchaseLineSchema>;
export type CreatePurchaseBody = Static<typeof CreatePurchaseBodySchema>;
/** What is bought: one line per product. */
export type OrderLine = { productId: string; quantity: number };
