import { Type, type TSchema } from '@sinclair/typebox';

/** Shared pieces of every resource's schema. */

export const IdSchema = Type.String({ minLength: 1, maxLength: 64, description: 'Opaque identifier' });
export const IdParamsSchema = Type.Object({ id: IdSchema }, { additionalProperties: false });
export const TimestampSchema = Type.String({ format: 'date-time', description: 'ISO-8601 UTC' });
/** The highest price: 10^12 cents. With MAX_QUANTITY (purchases.ts) it keeps every total a safe integer. */
export const MAX_CENTS = 1_000_000_000_000;
export const CentsSchema = Type.Integer({ minimum: 0, maximum: MAX_CENTS, description: 'Integer minor units' });

export const PageQuerySchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'nextCursor of the previous page' }),
    ),
  },
  { additionalProperties: false },
);

export const PageSchema = <T extends TSchema>(item: T, name: string) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) }, { $id: name });

export const ErrorSchema = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String(),
    error: Type.String(),
    message: Type.String(),
    /** OUT_OF_STOCK: the lines short of stock. */
    details: Type.Optional(
      Type.Array(Type.Object({ productId: Type.String(), requested: Type.Integer(), available: Type.Integer() })),
    ),
  },
  { $id: 'Error', description: 'Every error: a stable machine-readable code and a human message' },
);

/** Response schemas for the errors a route can answer, all in the one error shape. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref(ErrorSchema)]));
