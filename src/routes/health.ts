import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const HealthSchema = Type.Object({ status: Type.String(), redis: Type.Optional(Type.Object({ master: Type.String(), replica: Type.String() })) });

/** Per-instance health, for NGINX, Compose healthchecks and operators (NGINX does not route these publicly). */
const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health/live', { schema: { tags: ['health'], response: { 200: HealthSchema } } }, async () => ({ status: 'ok' }));

  app.get('/health/ready', { schema: { tags: ['health'], response: { 200: HealthSchema, 503: HealthSchema } } }, async (_request, reply) => {
    const { master, replica } = app.redis;
    const masterUp = await master.ping().then(
      () => true,
      () => false,
    );
    const redis = { master: masterUp ? 'up' : 'down', replica: replica.status === 'ready' ? 'up' : 'down' };
    return reply.status(masterUp ? 200 : 503).send({ status: masterUp ? 'ok' : 'unavailable', redis });
  });
};

export default health;
