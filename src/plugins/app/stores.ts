import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { UserStore } from '../../stores/user-store.js';
import { ProductStore } from '../../stores/product-store.js';
import { PurchaseStore } from '../../stores/purchase-store.js';
import { TokenStore } from '../../stores/token-store.js';
import { Cancellations } from '../../stores/cancellations.js';
import { Durability } from '../../stores/durability.js';
import { StockEvents } from '../../redis/live/stock-events.js';
import { Passwords } from '../../passwords/passwords.js';

export interface Stores {
  users: UserStore;
  products: ProductStore;
  purchases: PurchaseStore;
  tokens: TokenStore;
  cancellations: Cancellations;
}

declare module 'fastify' {
  interface FastifyInstance {
    stores: Stores;
    /** bcrypt on worker threads; the stores hash with it (decorated for its job counts). */
    passwords: Passwords;
  }
}

/**
 * The search indexes of products written before they existed, filled in while the instance already serves: a big
 * catalog (a minute per million products) does not hold readiness back; meanwhile a search may miss such a
 * product, never show a wrong one. Closing stops it between two batches; the next start goes on.
 */
function backfillInBackground(app: FastifyInstance, products: ProductStore): void {
  let closing = false;
  const started = Date.now();
  const done = products
    .backfillIndex(() => closing)
    .then(
      (indexed) => {
        const seconds = (Date.now() - started) / 1000;
        // Stopped by the close: the next start goes on (no marker was set).
        if (indexed > 0 && !closing) app.log.info({ indexed, seconds }, 'catalog search index backfilled');
      },
      (err: unknown) =>
        app.log.warn({ err }, 'catalog search index backfill stopped; the next start of an instance goes on'),
    );
  app.addHook('onClose', async () => {
    closing = true;
    await done;
  });
}

/** One store per entity; route handlers talk to these, never to Redis. Bootstraps the admin account. */
export default fp(
  async (app) => {
    const { master, authReader, cache, catalogReads, pool, watch, keys } = app.redis;
    const { auth, purchases, redis, live } = app.config;
    const events = new StockEvents(keys, live.eventsMaxLen);
    const passwords = new Passwords(auth.passwords);
    app.addHook('onClose', () => passwords.close());
    const stores: Stores = {
      users: new UserStore(master, keys, passwords, cache),
      products: new ProductStore(master, catalogReads, cache, keys, pool, redis.commandTimeoutMs, events),
      purchases: new PurchaseStore(
        master,
        pool,
        watch,
        keys,
        { ...purchases, connectionWaitMs: redis.commandTimeoutMs },
        app.businessMetrics,
        cache,
        events,
      ),
      tokens: new TokenStore(master, authReader, cache, keys),
      cancellations: new Cancellations(
        pool,
        keys,
        new Durability(watch, purchases, app.businessMetrics),
        { ...purchases, connectionWaitMs: redis.commandTimeoutMs },
        app.businessMetrics,
        cache,
        events,
      ),
    };
    app.decorate('stores', stores);
    app.decorate('passwords', passwords);
    await stores.users.prepare();
    backfillInBackground(app, stores.products);

    if (auth.admin) {
      const outcome = await stores.users.ensureAdmin(auth.admin.username, auth.admin.password);
      app.log.info({ username: auth.admin.username, outcome }, 'bootstrap admin');
    }
  },
  { name: 'stores', dependencies: ['redis'] },
);
