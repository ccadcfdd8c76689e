import fp from 'fastify-plugin';
import fastifyMetricsModule from 'fastify-metrics';
import { Registry } from 'prom-client';
import { BusinessMetrics } from '../../metrics.js';

// fastify-metrics is CommonJS compiled from ESM: under Node's ESM loader its plugin sits on .default.
const fastifyMetrics = fastifyMetricsModule.default;

// From a cached read (~1 ms) to a purchase waiting out a failover (seconds); 0.5 s is the p99 alert's line.
const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

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
      // One histogram per route, method and status (aggregatable across instances, unlike a summary).
      routeMetrics: {
        enabled: { histogram: true, summary: false },
        routeBlacklist: ['/metrics', '/health/live', '/health/ready'],
        overrides: {
          histogram: { registers: [registry], buckets: LATENCY_BUCKETS_SECONDS },
          summary: { registers: [] },
        },
      },
    });
  },
  { name: 'business-metrics' },
);
