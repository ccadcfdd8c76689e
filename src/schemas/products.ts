import { Type, type Static } from '@sinclair/typebox';
import { CentsSchema, IdSchema, PageQuerySchema, TimestampSchema } from './common.js';

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

/** GET /products: the page, and the search; without any search parameter, the plain catalog as before. */
export const ProductQuerySchema = Type.Object(
  {
    limit: PageQuerySchema.properties.limit,
    cursor: Type.Optional(
      // A search cursor holds a name (up to 200 characters, some of them 4 bytes in UTF-8) and more.
      Type.String({ minLength: 1, maxLength: 1200, description: 'nextCursor of the previous page of this query' }),
    ),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'Case-insensitive match on the start of any word of the name (several words: a phrase)',
      }),
    ),
    minPriceCents: Type.Optional(CentsSchema),
    maxPriceCents: Type.Optional(CentsSchema),
    inStock: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: only stock above 0' }),
    ),
    sort: Type.Optional(
      Type.Union([Type.Literal('newest'), Type.Literal('price'), Type.Literal('-price'), Type.Literal('name')], {
        description:
          'newest (the default of a search): newest first; -price: dearest first. ' +
          'Without any parameter the catalog lists oldest first, as it always has',
      }),
    ),
  },
  { additionalProperties: false },
);

export type Product = Static<typeof ProductSchema>;
export type CreateProductBody = Static<typeof CreateProductBodySchema>;
export type UpdateProductBody = Static<typeof UpdateProductBodySchema>;
export type ProductQuery = Static<typeof ProductQuerySchema>;
