import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const Up = Type.Union([Type.Literal('up'), Type.Literal('down')]);
const HealthSchema = Type.Object({
  status: Type.String(),
  redis: Type.Optional(
    Type.Object({
      master: Up,
      replica: Up,
      /** Sentinels this instance hears from, e.g. "3/3". */
      sentinels: Type.String(),
      /** "none", or "in-progress" while a Sentinel doubts the master (purchases wait meanwhile). */
      failover: Type.Union([Type.Literal('none'), Type.Literal('in-progress')]),
      /** Each Redis client's ioredis status (ready, connecting, reconnecting, …) by name. */
      clients: Type.Record(Type.String(), Type.String()),
    }),
  ),
});

// A paused master never answers: readiness must not hang with it.
const PING_TIMEOUT_MS = 1000;

/** Per-instance health, for NGINX, Compose healthchecks and operators (NGINX does not route these publicly). */
const health: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/health/live', { schema: { tags: ['health'], response: { 200: HealthSchema } } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/health/ready',
    { schema: { tags: ['health'], response: { 200: HealthSchema, 503: HealthSchema } } },
    async (_request, reply) => {
      const { master, replicas, watch, statuses } = app.redis;
      const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, PING_TIMEOUT_MS, false).unref());
      const masterUp = await Promise.race([
        master.ping().then(
          () => watch.isMaster(master),
          () => false,
        ),
        timeout,
      ]);
      const clients = statuses();
      // Ready = it can take a purchase now: the master answers and at least one transaction connection is up.
      const ready =
        masterUp && Object.entries(clients).some(([name, status]) => name.startsWith('tx-') && status === 'ready');
      const redis = {
        master: masterUp ? ('up' as const) : ('down' as const),
        replica: replicas.some((r) => r.status === 'ready') ? ('up' as const) : ('down' as const),
        sentinels: watch.sentinelsLive,
        failover: watch.fence.fenced ? ('in-progress' as const) : ('none' as const),
        clients,
      };
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', redis });
    },
  );
};

export default health;
