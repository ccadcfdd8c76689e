import { Type, type Static } from '@sinclair/typebox';
import { CentsSchema, IdSchema, TimestampSchema } from './common.js';

const NameSchema = Type.String({ minLength: 1, maxLength: 200 });
const DescriptionSchema = Type.String({ maxLength: 2000 });
const StockSchema = Type.Integer({ minimum: 0, maximum: 1_000_000_000 });

export const ProductSchema = Type.Object(
  {
    id: IdSchema,
    name: Type.String(),
    description: Type.String(),
    priceCents: Type.Integer(),
    stock: Type.Integer(),
    createdAt: TimestampSchema,
    updatedAt: TimestampSchema,
  },
  { $id: 'Product', additionalProperties: false },
);

export const CreateProductBodySchema = Type.Object(
  { name: NameSchema, description: Type.Optional(DescriptionSchema), priceCents: CentsSchema, stock: StockSchema },
  { additionalProperties: false },
);

export const UpdateProductBodySchema = Type.Partial(CreateProductBodySchema, {
  additionalProperties: false,
  minProperties: 1,
});

export type Product = Static<typeof ProductSchema>;
export type CreateProductBody = Static<typeof CreateProductBodySchema>;
export type UpdateProductBody = Static<typeof UpdateProductBodySchema>;
