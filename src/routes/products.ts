import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CreateProductBodySchema,
  ProductQuerySchema,
  ProductSchema,
  UpdateProductBodySchema,
} from '../schemas/products.js';
import { IdParamsSchema, PageSchema, errorResponses } from '../schemas/common.js';

const ProductPageSchema = PageSchema(Type.Ref(ProductSchema), 'ProductPage');

const products: FastifyPluginAsyncTypebox = async (app) => {
  const store = app.stores.products;
  const adminOnly = { preHandler: [app.authenticate, app.requireAdmin] };
  const security = [{ bearerAuth: [] }];

  app.get(
    '',
    {
      schema: {
        tags: ['products'],
        summary: 'The catalog, oldest first; or searched (q, price range, in stock) and sorted',
        querystring: ProductQuerySchema,
        response: { 200: ProductPageSchema, ...errorResponses(400) },
      },
    },
    async (request) => store.query(request.query),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags: ['products'],
        params: IdParamsSchema,
        response: { 200: Type.Ref(ProductSchema), ...errorResponses(404) },
      },
    },
    async (request) => store.get(request.params.id),
  );

  app.post(
    '',
    {
      ...adminOnly,
      schema: {
        tags: ['products'],
        summary: 'Add a product (admin)',
        security,
        body: CreateProductBodySchema,
        response: { 201: Type.Ref(ProductSchema), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const product = await store.create(request.body);
      return reply
        .status(201)
        .header('location', `${request.url.replace(/\/$/, '')}/${product.id}`)
        .send(product);
    },
  );

  app.patch(
    '/:id',
    {
      ...adminOnly,
      schema: {
        tags: ['products'],
        summary: 'Change a product (admin)',
        security,
        params: IdParamsSchema,
        body: UpdateProductBodySchema,
        response: { 200: Type.Ref(ProductSchema), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => store.update(request.params.id, request.body),
  );

  app.delete(
    '/:id',
    {
      ...adminOnly,
      schema: {
        tags: ['products'],
        summary: 'Remove a product (admin)',
        security,
        params: IdParamsSchema,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await store.delete(request.params.id);
      return reply.status(204).send(null);
    },
  );
};

export default products;
