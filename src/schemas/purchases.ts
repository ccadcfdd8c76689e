import { Type, type Static } from '@sinclair/typebox';
import { IdSchema, PageQuerySchema, TimestampSchema } from './common.js';

export const PurchaseSchema = Type.Object(
  {
    id: IdSchema,
    userId: IdSchema,
    productId: IdSchema,
    quantity: Type.Integer(),
    unitPriceCents: Type.Integer(),
    totalCents: Type.Integer(),
    createdAt: TimestampSchema,
  },
  { $id: 'Purchase', additionalProperties: false },
);

/**
 * The most units one purchase takes. A total is MAX_CENTS × MAX_QUANTITY = 10^15 cents at most, below 2^53: exact as
 * a JavaScript number, as a Redis integer, and in JSON.
 */
export const MAX_QUANTITY = 1000;

export const CreatePurchaseBodySchema = Type.Object(
  { productId: IdSchema, quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }) },
  { additionalProperties: false },
);

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
export type CreatePurchaseBody = Static<typeof CreatePurchaseBodySchema>;
