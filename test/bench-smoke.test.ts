import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { keySchema } from '../src/redis/keys.js';
import { CATALOG_INDEX_VERSION } from '../src/stores/catalog-backfill.js';
import { indexEntries } from '../src/stores/catalog-index.js';
import { renderBench, runBench } from '../ops/bench/bench.js';
import { REDIS_CEILING } from '../ops/bench/redis-ceiling.js';
import { BENCH_NGINX_LOCATIONS, SCENARIOS } from '../ops/bench/scenarios.js';
import { masterAddress } from '../ops/bench/target.js';
import type { DeploymentView } from '../ops/deployment/deployment.js';
import { LocalDeployment } from '../ops/deployment/local.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

const PRODUCT_FIELDS = ['createdAt', 'description', 'id', 'name', 'priceCents', 'stock', 'updatedAt'];
// A purchase of one line, as the store writes it since baskets: its items and status, and the line at the top.
const PURCHASE_FIELDS = [
  'createdAt',
  'id',
  'productId',
  'quantity',
  'status',
  'totalCents',
  'unitPriceCents',
  'userId',
];
const SCALE_RUNS = ['catalog-get', 'catalog-page', 'search', 'search-filtered', 'purchase'];
const SCALE_SIZE = 1000;

/**
 * A smoke run of `npm run bench`: a second of tiny load per scenario proves the harness drives every scenario
 * and produces its table. Nothing here asserts a speed: the figures belong in the benchmark report.
 */
t.test('every scenario runs under wrk and lands in the table, with its ceiling and its answers', async (t) => {
  const config = { ...(await testStackConfig(t)), nginxExtraLocations: BENCH_NGINX_LOCATIONS };
  const stack = await startTestStack(t, config);
  const deployment = new LocalDeployment(stack);
  const scenarios = [...SCENARIOS.map((s) => s.name), REDIS_CEILING];
  const options = { scenarios, durationSeconds: 1, connections: 2, hotStock: 3 };
  const scaleSize = { scaleProducts: SCALE_SIZE, scalePurchases: SCALE_SIZE };
  const results = await runBench(deployment, { ...options, ...scaleSize }, config.dir, (m) => t.comment(m));
  t.same(results.map((r) => r.name).sort(), [...scenarios].sort(), 'every scenario ran');
  t.equal(results.at(-1)?.name, 'scale', 'scale runs last: what it loads stays in the store');
  for (const r of results) {
    t.ok(r.requests > 0, `${r.name}: requests were answered`);
    t.equal(r.errors, 0, `${r.name}: no socket error`);
    t.equal(r.unexpected, 0, `${r.name}: only the answers it expects (${JSON.stringify(r.statuses)})`);
    t.ok(r.p99Ms >= r.p50Ms, `${r.name}: a p50 and a p99`);
    if (r.ceiling) t.type(r.ratio, 'number', `${r.name}: a share of ${r.ceiling}`);
  }
  const hot = results.find((r) => r.name === 'purchase-hot')?.hot;
  t.match(hot, { stockAfter: 0, sold: 3, initial: 3 }, 'the hot product sells out exactly, never below zero');
  t.ok(Number.isInteger(hot?.watchRetries) && hot!.watchRetries! >= 0, "WATCH retries from the instances' metrics");

  const mixed = results.find((r) => r.name === 'mixed')?.mixed;
  t.ok(mixed, 'mixed: the reads alone and the login storm are reported');
  for (const [what, run] of Object.entries({ 'reads alone': mixed?.alone, logins: mixed?.logins })) {
    t.ok(run && run.requests > 0, `mixed, ${what}: requests were answered`);
    t.equal(run?.errors, 0, `mixed, ${what}: no socket error`);
    t.same(Object.keys(run?.statuses ?? {}), ['200'], `mixed, ${what}: only 200s`);
  }
  t.equal(mixed?.loginConnections, 2, 'mixed: at least 2 connections log in');

  const scale = results.find((r) => r.name === 'scale')?.scale;
  t.same(
    scale?.runs.map((r) => r.name),
    SCALE_RUNS,
    'scale: each of its scenarios at both sizes',
  );
  for (const run of scale?.runs ?? []) {
    for (const [size, r] of Object.entries({ seeded: run.seeded, 'at scale': run.atScale })) {
      t.ok(r.requests > 0, `scale, ${run.name} ${size}: requests were answered`);
      t.equal(
        r.errors + r.unexpected,
        0,
        `scale, ${run.name} ${size}: only expected answers (${JSON.stringify(r.statuses)})`,
      );
    }
  }
  t.equal(scale?.products.count, SCALE_SIZE, 'scale: the products it was asked to load');
  t.equal(scale?.purchases.count, SCALE_SIZE, 'scale: the purchases it was asked to load');
  t.ok((scale?.products.bytesEach ?? 0) > 0, `scale: memory per product (${scale?.products.bytesEach})`);
  t.ok((scale?.purchases.bytesEach ?? 0) > 0, `scale: memory per purchase (${scale?.purchases.bytesEach})`);
  for (const check of scale?.checks ?? []) {
    t.match(check, { status: 200, items: 20, bulk: 20 }, `scale, after the load: ${check.what} lists loaded ones`);
  }

  const table = renderBench({
    machine: { cpus: 2, node: process.version },
    connections: 2,
    durationSeconds: 1,
    results,
  });
  for (const name of scenarios) t.match(table, `| ${name} |`, `the table has ${name}`);
  t.match(table, /^mixed: reads p99 [\d.]+ ms alone, [\d.]+ ms under \d+ logins\/s/m, 'the table has the mixed line');
  t.match(table, /^scale: 1,000 products .* and 1,000 purchases /m, 'the table has the scale line');
  for (const name of SCALE_RUNS) {
    t.match(table, new RegExp(`^\\| ${name} \\|( [^|]+ \\|){8}$`, 'm'), `the scale table has ${name}`);
  }
  if (scale) await checkLoaded(t, deployment, scale.products, scale.purchases);
});

type Loaded = { firstId: string; lastId: string };

/** Straight from the master: what the load wrote is what the stores write, every purchase pointing at real rows. */
async function checkLoaded(t: Test, deployment: DeploymentView, products: Loaded, purchases: Loaded) {
  const master = await masterAddress(deployment);
  const redis = new Redis({
    host: master.host,
    port: master.port,
    username: master.username,
    password: master.password,
  });
  t.teardown(() => redis.quit());
  const keys = keySchema(deployment.keyPrefix);
  const range = (l: Loaded) => [`[${l.firstId}`, `[${l.lastId}`] as const;
  t.equal(await redis.zlexcount(keys.productIndex(), ...range(products)), SCALE_SIZE, 'the products are indexed');
  t.equal(await redis.zlexcount(keys.purchaseIndex(), ...range(purchases)), SCALE_SIZE, 'the purchases are indexed');
  const users = await redis.zrange(keys.userIndex(), '-', '+', 'BYLEX');
  const perUser = await Promise.all(users.map((u) => redis.zlexcount(keys.userPurchases(u), ...range(purchases))));
  t.equal(
    perUser.reduce((a, b) => a + b, 0),
    SCALE_SIZE,
    "each purchase is in its buyer's index",
  );
  const sampleOf = (index: string, loaded: Loaded) => redis.zrange(index, ...range(loaded), 'BYLEX', 'LIMIT', 0, 20);
  const problems: string[] = [];
  for (const id of await sampleOf(keys.productIndex(), products)) {
    const hash = await redis.hgetall(keys.product(id));
    const fields = Object.keys(hash).sort();
    if (fields.join() !== PRODUCT_FIELDS.join()) problems.push(`product ${id}: ${fields.join()}`);
    const product = { id, name: hash.name ?? '', priceCents: Number(hash.priceCents), stock: Number(hash.stock) };
    for (const [key, member] of indexEntries(keys, product)) {
      if ((await redis.zscore(key, member)) !== '0') problems.push(`product ${id}: no ${key} entry ${member}`);
    }
  }
  t.equal(
    await redis.get(keys.catalogIndexVersion()),
    CATALOG_INDEX_VERSION,
    'the index-version marker is set: an instance starting does not backfill what was loaded',
  );
  const purchaseIds = await sampleOf(keys.purchaseIndex(), purchases);
  for (const id of purchaseIds) {
    const purchase = await redis.hgetall(keys.purchase(id));
    const fields = Object.keys(purchase).sort();
    const { userId = '', productId = '', quantity, unitPriceCents, totalCents } = purchase;
    const product = await redis.hgetall(keys.product(productId));
    if (fields.join() !== PURCHASE_FIELDS.join()) problems.push(`purchase ${id}: ${fields.join()}`);
    if (unitPriceCents !== product.priceCents) problems.push(`purchase ${id}: not at its product's price`);
    if (Number(totalCents) !== Number(unitPriceCents) * Number(quantity)) problems.push(`purchase ${id}: its total`);
    if ((await redis.exists(keys.user(userId))) !== 1) problems.push(`purchase ${id}: no buyer ${userId}`);
    if ((await redis.zscore(keys.userPurchases(userId), id)) !== '0') problems.push(`purchase ${id}: not indexed`);
  }
  t.equal(purchaseIds.length, 20, 'a sample of the loaded purchases');
  t.same(
    problems,
    [],
    "loaded hashes have the stores' fields, products their search entries; purchases of real products, by buyers",
  );
}
