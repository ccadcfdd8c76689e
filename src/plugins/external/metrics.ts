import fp from 'fastify-plugin';
import fastifyMetricsModule from 'fastify-metrics';
import { Registry } from 'prom-client';
import { BusinessMetrics } from '../../metrics.js';

// fastify-metrics is CommonJS compiled from ESM: under Node's ESM loader its plugin sits on .default.
const fastifyMetrics = fastifyMetricsModule.default;

declare module 'fastify' {
  interface FastifyInstance {
    businessMetrics: BusinessMetrics;
  }
}

/**
 * fastify-metrics: HTTP and process metrics at /metrics (Prometheus text), plus Evergreen's business counters.
 * Each app gets its own registry, so two instances can live in one process (as in the tests).
 */
export default fp(
  async (app) => {
    const registry = new Registry();
    app.decorate('businessMetrics', new BusinessMetrics(registry));
    await app.register(fastifyMetrics, {
      endpoint: '/metrics',
      defaultMetrics: { enabled: true, register: registry },
      routeMetrics: {
        enabled: true,
        routeBlacklist: ['/metrics', '/health/live', '/health/ready'],
        overrides: { histogram: { registers: [registry] }, summary: { registers: [registry] } },
      },
    });
  },
  { name: 'business-metrics' },
);
