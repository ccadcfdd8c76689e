import t from 'tap';
import { eventually } from './helpers/fixtures.js';
import { call, startTestStack, STACK_ADMIN, testStackConfig } from './helpers/stack.js';

t.test('a restarted stack still has every write it acknowledged', async (t) => {
  const config = await testStackConfig(t);
  const before = await startTestStack(t, config);
  const base = before.publicUrl;
  const admin = await call(base, 'POST', '/api/v1/auth/login', { body: STACK_ADMIN });
  await call(base, 'POST', '/api/v1/auth/register', { body: { username: 'returning', password: 'correct-horse-9' } });
  const shopper = await call(base, 'POST', '/api/v1/auth/login', {
    body: { username: 'returning', password: 'correct-horse-9' },
  });
  const product = await call(base, 'POST', '/api/v1/products', {
    token: admin.body.token,
    body: { name: 'Desk', priceCents: 15000, stock: 4 },
  });
  const purchase = await call(base, 'POST', '/api/v1/purchases', {
    token: shopper.body.token,
    body: { productId: product.body.id, quantity: 1 },
    headers: { 'idempotency-key': 'before-restart' },
  });
  t.equal(purchase.status, 201, 'the purchase was acknowledged before the restart');
  await before.stop();

  const after = await startTestStack(t, config);
  t.equal(after.publicUrl, base, 'the same ports');
  const login = await call(base, 'POST', '/api/v1/auth/login', {
    body: { username: 'returning', password: 'correct-horse-9' },
  });
  t.equal(login.status, 200, 'the user is still there');
  const stored = await call(base, 'GET', `/api/v1/purchases/${purchase.body.id}`, { token: login.body.token });
  t.equal(stored.status, 200, 'the purchase is still there');
  t.same(stored.body, purchase.body);
  // Catalog reads come from a replica, which may trail the master by a moment.
  const stockSettles = () =>
    eventually(
      () => call(base, 'GET', `/api/v1/products/${product.body.id}`),
      (res) => res.body.stock === 3,
    );
  t.equal((await stockSettles()).body.stock, 3, 'the stock still counts it');
  const replay = await call(base, 'POST', '/api/v1/purchases', {
    token: login.body.token,
    body: { productId: product.body.id, quantity: 1 },
    headers: { 'idempotency-key': 'before-restart' },
  });
  t.equal(replay.headers['idempotent-replayed'], 'true', 'its Idempotency-Key is remembered');
  t.equal(replay.body.id, purchase.body.id);
  t.equal((await stockSettles()).body.stock, 3, 'and charges nothing twice');
});
