import t from 'tap';
import { seedDemoCatalog } from '../stack/helpers/seed.js';
import { straysIn } from '../stack/helpers/state.js';
import { printStatus } from '../stack/commands/status.js';
import { eventually } from './helpers/fixtures.js';
import { call, startTestStack, STACK_ADMIN, testStackConfig } from './helpers/stack.js';

t.test('the local stack starts on free ports, serves a purchase through NGINX and stops clean', async (t) => {
  const config = await testStackConfig(t);
  const stack = await startTestStack(t, config);
  const base = stack.publicUrl;

  await t.test('status sees every node, Sentinel and instance healthy', async (t) => {
    const lines: string[] = [];
    t.ok(await printStatus(config, (line) => lines.push(line)), 'everything is healthy');
    const [master, ...replicas] = config.redisPorts;
    t.match(lines.join('\n'), new RegExp(`127.0.0.1:${master} +master`), 'the first node is the master');
    t.equal(
      lines.filter((l) => new RegExp(`replica +of 127.0.0.1:${master}, link connected`).test(l)).length,
      replicas.length,
      'both replicas linked',
    );
    t.equal(
      lines.filter((l) => l.includes(`master 127.0.0.1:${master} (master), 2 replicas, 2 other Sentinels`)).length,
      3,
      'every Sentinel agrees',
    );
    t.equal(lines.filter((l) => / API .* ready /.test(l)).length, 2, 'both instances ready');
  });

  await t.test('the demo catalog is seeded once, only into an empty catalog', async (t) => {
    t.equal(await seedDemoCatalog(base, STACK_ADMIN), 5, 'five products into the empty catalog');
    t.equal(await seedDemoCatalog(base, STACK_ADMIN), 0, 'none the second time');
    t.equal((await call(base, 'GET', '/api/v1/products?limit=100')).body.items.length, 5);
  });

  await t.test('a purchase through NGINX, replayed with its Idempotency-Key', async (t) => {
    const registered = await call(base, 'POST', '/api/v1/auth/register', {
      body: { username: 'shopper', password: 'correct-horse-9' },
    });
    t.equal(registered.status, 201, 'register');
    const shopper = await call(base, 'POST', '/api/v1/auth/login', {
      body: { username: 'shopper', password: 'correct-horse-9' },
    });
    const admin = await call(base, 'POST', '/api/v1/auth/login', { body: STACK_ADMIN });
    t.equal(admin.status, 200, 'the admin from the environment logs in');
    t.equal(admin.body.user.role, 'admin');

    const product = await call(base, 'POST', '/api/v1/products', {
      token: admin.body.token,
      body: { name: 'Lamp', priceCents: 2500, stock: 3 },
    });
    t.equal(product.status, 201, 'the admin creates a product');
    const purchase = { productId: product.body.id, quantity: 2 };
    const headers = { 'idempotency-key': 'stack-test-1' };
    const first = await call(base, 'POST', '/api/v1/purchases', { token: shopper.body.token, body: purchase, headers });
    t.equal(first.status, 201, 'purchase');
    t.equal(first.body.totalCents, 5000);
    t.ok(first.headers['x-request-id'], 'x-request-id on a proxied response');
    const replay = await call(base, 'POST', '/api/v1/purchases', {
      token: shopper.body.token,
      body: purchase,
      headers,
    });
    t.equal(replay.status, 201, 'replay');
    t.equal(replay.headers['idempotent-replayed'], 'true');
    t.equal(replay.body.id, first.body.id, 'the same purchase');
    // Catalog reads come from a replica, which may trail the master by a moment.
    const after = await eventually(
      () => call(base, 'GET', `/api/v1/products/${product.body.id}`),
      (res) => res.body.stock === 1,
    );
    t.equal(after.body.stock, 1, 'charged once');
  });

  await t.test('stop() leaves no process behind', async (t) => {
    const pids = stack.pids();
    t.equal(pids.length, 9, '3 Redis, 3 Sentinels, 2 API instances, NGINX');
    const stoppingAt = Date.now();
    await stack.stop();
    t.comment(`stopped in ${Date.now() - stoppingAt} ms`);
    for (const pid of pids) t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `pid ${pid} is gone`);
    t.same(stack.pids(), [], 'pids() knows it');
    t.same(await straysIn(config.dir), [], 'nothing runs from the state folder, NGINX workers included');
  });
});
