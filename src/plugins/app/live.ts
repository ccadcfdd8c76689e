import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';
import fastifySSEModule, { type SSEPluginOptions } from '@fastify/sse';
import {
  Redis,
  closeClient,
  connect,
  logConnectionErrors,
  nodeAddress,
  reviveOnEnd,
  stockTailOptions,
} from '../../redis/connections.js';
import { BLOCK_MS, StockFeed } from '../../redis/live/stock-feed.js';

// @fastify/sse is CommonJS: under Node's ESM loader the default import is its module.exports, the plugin wrapped
// with fastify-plugin (so that its onRoute hook sees the routes of the whole app), whatever its types say.
const fastifySSE = fastifySSEModule as unknown as FastifyPluginAsync<SSEPluginOptions>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Live stock: the one tail of the stock events and its watchers (routes/product-events.ts). */
    stockFeed: StockFeed;
    /** Ends every open live stream (as the instance closes, before the server stops). */
    liveStreams: Set<() => void>;
  }
}

/**
 * Live stock over server-sent events (@fastify/sse): the feed tails the stock events on a replica connection of
 * its own; open streams are ended before the server closes (else a close would wait for them), and the tail stops
 * with its connection.
 */
export default fp(
  async (app) => {
    const { redis: cfg, live } = app.config;
    await app.register(fastifySSE, { heartbeatInterval: live.heartbeatMs });
    const tail = new Redis(stockTailOptions(cfg, BLOCK_MS));
    logConnectionErrors(tail, app.log, 'stock-tail');
    reviveOnEnd(tail, app.log, 'stock-tail', () => app.businessMetrics.clientRevivals.inc());
    const { catalogReads, master, keys, replicaLag } = app.redis;
    const feed = new StockFeed(
      tail,
      catalogReads,
      master,
      keys,
      { maxClients: live.maxClients },
      app.businessMetrics.live,
      app.log,
      () => replicaLag.lagging(nodeAddress(tail)),
    );
    const streams = new Set<() => void>();
    app.decorate('stockFeed', feed);
    app.decorate('liveStreams', streams);
    // No replica yet is not fatal: the tail polls through the catalog reads meanwhile.
    connect(tail, cfg.readyTimeoutMs).catch((err: Error) =>
      app.log.warn({ err: { message: err.message } }, 'live stock tail: no replica reachable yet'),
    );
    feed.start();
    app.addHook('preClose', (done) => {
      for (const end of [...streams]) end();
      app.businessMetrics.live.drops.inc({ reason: 'shutdown' }, streams.size);
      done();
    });
    app.addHook('onClose', async () => {
      const stopped = feed.stop();
      await closeClient(tail);
      await stopped;
    });
  },
  { name: 'live', dependencies: ['redis', 'business-metrics'] },
);
