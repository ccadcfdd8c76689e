import path from 'node:path';
import t, { type Test } from 'tap';
import { takeBackup } from '../ops/backup/backup.js';
import { restoreLocal } from '../ops/backup/restore.js';
import { LocalView } from '../ops/deployment/local.js';
import type { StackConfig } from '../stack/config.js';
import type { LocalStack } from '../stack/stack.js';
import { buy, openShop, readEveryNode, replicasInSync, testStackControl } from './helpers/backup.js';
import { call, startTestStack, testStackConfig } from './helpers/stack.js';

/** npm run backup / restore on a real stack: what a restore gives back, on every node. */

const backupOf = (t: Test, stack: LocalStack, config: StackConfig) =>
  takeBackup(new LocalView(stack), { dir: path.join(config.dir, 'backups'), keep: 3, log: (msg) => t.comment(msg) });

t.test('backup, more purchases, restore: exactly the backed-up state on every node', async (t) => {
  const config = await testStackConfig(t);
  const stack = await startTestStack(t, config);
  const shop = await openShop(stack.publicUrl, 3, 50);
  const [a, b, c] = shop.products.map((p) => p.id) as [string, string, string];
  const token = shop.shopperToken;
  for (let i = 0; i < 9; i++) t.equal(await buy(shop, [a, b, c][i % 3] as string, 1 + (i % 2), `before-${i}`), 201);
  // A basket cancelled before the backup, and a purchase cancelled only after it.
  const purchase = (body: object) => call(stack.publicUrl, 'POST', '/api/v1/purchases', { token, body });
  const cancel = (id: string) => call(stack.publicUrl, 'POST', `/api/v1/purchases/${id}/cancel`, { token });
  const basket = await purchase({
    items: [
      { productId: a, quantity: 1 },
      { productId: b, quantity: 2 },
    ],
  });
  t.equal(basket.status, 201);
  t.equal((await cancel(basket.body.id)).status, 200);
  const later = await purchase({ productId: c, quantity: 3 });
  t.equal(later.status, 201);
  await replicasInSync(stack);
  const before = (await readEveryNode(stack))[0]?.store ?? {};

  const { file, manifest } = await backupOf(t, stack, config);
  t.match(path.basename(file), /^evergreen-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\.tar\.gz$/);
  t.match(manifest.counts, { users: 2, products: 3, purchases: 11 }, 'the manifest counts the snapshot');
  t.not(manifest.source.replica, manifest.source.master, 'taken from a replica, not the master');
  t.equal(manifest.source.master, `${config.host}:${config.redisPorts[0]}`);
  t.equal(manifest.source.deployment, `local (${config.dir})`, 'the deployment named as archives name it');

  // After the backup: more purchases, a new user and a new product, a changed price.
  for (let i = 0; i < 6; i++) t.equal(await buy(shop, [a, b][i % 2] as string, 2, `after-${i}`), 201);
  t.equal((await cancel(later.body.id)).status, 200);
  await openShop(stack.publicUrl, 1, 7, 'latecomer');
  await call(stack.publicUrl, 'PATCH', `/api/v1/products/${c}`, { token: shop.adminToken, body: { priceCents: 999 } });
  await replicasInSync(stack);
  t.not((await readEveryNode(stack))[0]?.store, before, 'the store moved on after the backup');

  const { control, current } = testStackControl(t, config, stack);
  const log = (msg: string) => t.comment(msg);
  await t.rejects(
    restoreLocal(config, control, file, { force: false, log }),
    /holds data .*--force.*Nothing was changed/s,
  );
  t.ok(await control.isRunning(), 'refused without --force: the stack still runs');

  const result = await restoreLocal(config, control, file, { force: true, log });
  t.ok(result.restarted, 'the stack that ran runs again');
  t.equal(result.nodes.length, 3, 'every node was counted');
  const restored = current();
  if (!restored) throw new Error('no stack after the restore');
  const nodes = await readEveryNode(restored);
  t.equal(nodes.length, 3);
  for (const { port, store } of nodes) t.same(store, before, `redis-${port} holds exactly the backed-up store`);

  // And as a client sees it: stock, purchase list, the late user and product gone.
  const base = restored.publicUrl;
  for (const p of [a, b, c]) {
    const stock = (await call(base, 'GET', `/api/v1/products/${p}`)).body.stock;
    t.equal(stock, Number((before[`${config.keyPrefix}product:${p}`] as { hash: { stock: string } }).hash.stock));
  }
  const login = await call(base, 'POST', '/api/v1/auth/login', {
    body: { username: 'latecomer', password: 'correct-horse-9' },
  });
  t.equal(login.status, 401, 'the user registered after the backup is gone');
  const mine = await call(base, 'GET', '/api/v1/purchases?limit=100', { token: shop.shopperToken });
  t.equal(mine.status, 200);
  t.equal((mine.body.items as unknown[]).length, 11, "the shopper's purchases are the 11 made before the backup");
  const read = async (id: string) => (await call(base, 'GET', `/api/v1/purchases/${id}`, { token })).body;
  t.match(await read(basket.body.id), { status: 'cancelled', cancelledAt: String }, 'cancelled before: cancelled');
  const kept = await read(later.body.id);
  t.equal(kept.status, 'completed', 'cancelled only after the backup: completed again');
  t.notOk('cancelledAt' in kept);
  // The search indexes are the backed-up ones (the store comparison above holds them too), as a client sees them:
  // c at its old price, the product made after the backup (also named "Item 0") gone.
  const search = await call(base, 'GET', '/api/v1/products?q=item&maxPriceCents=102&sort=price');
  t.same(
    search.body.items.map((p: { id: string }) => p.id),
    [a, b, c],
    'a search by name and price finds exactly the backed-up products',
  );
  t.equal(await buy(shop, a, 1, 'before-0'), 201, 'an Idempotency-Key from before the backup replays');
  t.equal(await buy(shop, a, 1, 'after-0'), 201, 'one from after it buys anew');
});
