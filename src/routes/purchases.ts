import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import {
  CreatePurchaseBodySchema,
  ListPurchasesQuerySchema,
  PurchaseHeadersSchema,
  PurchaseSchema,
} from '../schemas/purchases.js';
import { IdParamsSchema, PageSchema, errorResponses } from '../schemas/common.js';
import { Forbidden } from '../errors.js';

const PurchasePageSchema = PageSchema(Type.Ref(PurchaseSchema), 'PurchasePage');

const purchases: FastifyPluginAsyncTypebox = async (app) => {
  const store = app.stores.purchases;
  app.addHook('preHandler', app.authenticate);
  const security = [{ bearerAuth: [] }];

  app.post(
    '',
    {
      schema: {
        tags: ['purchases'],
        summary: 'Buy a product: atomic, idempotent with Idempotency-Key, acknowledged once a replica has it',
        security,
        headers: PurchaseHeadersSchema,
        body: CreatePurchaseBodySchema,
        response: { 201: Type.Ref(PurchaseSchema), ...errorResponses(400, 401, 404, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const { purchase, replayed } = await store.purchase(
        request.user.id,
        request.body,
        request.headers['idempotency-key'],
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply
        .status(201)
        .header('location', `${request.url.replace(/\/$/, '')}/${purchase.id}`)
        .send(purchase);
    },
  );

  app.get(
    '',
    {
      schema: {
        tags: ['purchases'],
        summary: 'Own purchases, newest first (admins: all, or one user with ?userId=)',
        security,
        querystring: ListPurchasesQuerySchema,
        response: { 200: PurchasePageSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { userId, ...page } = request.query;
      if (request.user.role === 'admin') return store.list(page, userId);
      if (userId !== undefined && userId !== request.user.id) {
        throw new Forbidden('You may only list your own purchases');
      }
      return store.list(page, request.user.id);
    },
  );

  app.post(
    '/:id/cancel',
    {
      schema: {
        tags: ['purchases'],
        summary:
          "Cancel a purchase: every line's stock comes back, once (owner within CANCEL_WINDOW_SECONDS, admins always)",
        security,
        params: IdParamsSchema,
        response: { 200: Type.Ref(PurchaseSchema), ...errorResponses(401, 403, 404, 409, 503) },
      },
    },
    async (request) =>
      app.stores.cancellations.cancel(request.params.id, {
        userId: request.user.id,
        admin: request.user.role === 'admin',
      }),
  );

  app.get(
    '/:id',
    {
      schema: {
        tags: ['purchases'],
        security,
        params: IdParamsSchema,
        response: { 200: Type.Ref(PurchaseSchema), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const purchase = await store.get(request.params.id);
      if (request.user.role !== 'admin' && purchase.userId !== request.user.id) {
        throw new Forbidden('You may only see your own purchases');
      }
      return purchase;
    },
  );
};

export default purchases;
