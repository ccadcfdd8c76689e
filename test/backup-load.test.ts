import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { takeBackup } from '../ops/backup/backup.js';
import { restoreLocal } from '../ops/backup/restore.js';
import { LocalView } from '../ops/deployment/local.js';
import { buy, openShop, readEveryNode, testStackControl } from './helpers/backup.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

type Store = Record<string, unknown>;
const hashes = (store: Store, prefix: string) =>
  Object.entries(store).flatMap(([key, value]) => {
    const hash = (value as { hash?: Record<string, string> }).hash;
    return key.startsWith(prefix) && hash ? [hash] : [];
  });
const members = (store: Store, key: string) =>
  ((store[key] as { zset?: string[] } | undefined)?.zset ?? []).filter((_, i) => i % 2 === 0).sort();

/** What must hold in any consistent store: every unit sold is counted once, and every index names what exists. */
function invariantProblems(store: Store, prefix: string, initialStock: number): string[] {
  const problems: string[] = [];
  const purchases = hashes(store, `${prefix}purchase:`);
  for (const product of hashes(store, `${prefix}product:`)) {
    const sold = purchases.filter((p) => p.productId === product.id).reduce((n, p) => n + Number(p.quantity), 0);
    if (Number(product.stock) + sold !== initialStock) {
      problems.push(`product ${product.id}: stock ${product.stock} + ${sold} sold ≠ ${initialStock}`);
    }
  }
  const ids = purchases.map((p) => p.id as string).sort();
  if (JSON.stringify(members(store, `${prefix}purchases:index`)) !== JSON.stringify(ids)) {
    problems.push('purchases:index does not name exactly the stored purchases');
  }
  for (const user of new Set(purchases.map((p) => p.userId as string))) {
    const own = purchases
      .filter((p) => p.userId === user)
      .map((p) => p.id as string)
      .sort();
    if (JSON.stringify(members(store, `${prefix}user:${user}:purchases`)) !== JSON.stringify(own)) {
      problems.push(`user ${user}: their purchase index does not name exactly their purchases`);
    }
  }
  return problems;
}

t.test('a backup taken under purchase load restores to a store where every invariant holds', async (t) => {
  const config = await testStackConfig(t);
  const stack = await startTestStack(t, config);
  const initialStock = 400;
  const shop = await openShop(stack.publicUrl, 4, initialStock);
  let acknowledged = 0;
  let running = true;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const product = shop.products[(w + i) % shop.products.length]?.id ?? '';
      if ((await buy(shop, product, 1 + (i % 3), `w${w}-${i}`)) === 201) acknowledged += 1;
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(worker));
  while (acknowledged < 40) await sleep(20);
  const acknowledgedBefore = acknowledged;
  const { file, manifest } = await takeBackup(new LocalView(stack), {
    dir: path.join(config.dir, 'backups'),
    keep: 3,
    log: (msg) => t.comment(msg),
  });
  const acknowledgedDuring = acknowledged - acknowledgedBefore;
  const goal = acknowledged + 40;
  while (acknowledged < goal) await sleep(20);
  running = false;
  await load;
  t.comment(`${acknowledgedBefore} purchases acknowledged before the backup, ${acknowledgedDuring} while it ran`);
  t.ok(acknowledgedDuring > 0, 'purchases were acknowledged while the backup ran');
  t.ok(manifest.counts.purchases >= acknowledgedBefore, 'the backup holds every purchase acknowledged before it');
  t.ok(manifest.counts.purchases < acknowledged, 'and not those after it');

  const { control, current } = testStackControl(t, config, stack);
  await restoreLocal(config, control, file, { force: true, log: (msg) => t.comment(msg) });
  const restored = current();
  if (!restored) throw new Error('no stack after the restore');
  const nodes = await readEveryNode(restored);
  for (const { port, store } of nodes) {
    const purchases = hashes(store, `${config.keyPrefix}purchase:`).length;
    t.equal(purchases, manifest.counts.purchases, `redis-${port}: the purchases the manifest counted`);
    t.same(invariantProblems(store, config.keyPrefix, initialStock), [], `redis-${port}: every invariant holds`);
  }
  // The check can fail: one unit of stock more, or a purchase dropped from the index, is caught.
  const store = structuredClone(nodes[0]?.store ?? {});
  const [productKey] = Object.keys(store).filter((key) => key.startsWith(`${config.keyPrefix}product:`));
  const product = (store[productKey ?? ''] as { hash: { stock: string } }).hash;
  product.stock = String(Number(product.stock) + 1);
  (store[`${config.keyPrefix}purchases:index`] as { zset: string[] }).zset.splice(0, 2);
  t.equal(invariantProblems(store, config.keyPrefix, initialStock).length, 2, 'a broken store is caught');
});
