import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, createProduct, login, loginAdmin, startApp, type Call } from './helpers/app.js';

// Real failures of a real topology: replicas that stop confirming, and a master that stops answering.
const topo = await startTestTopology(t);
const { topology } = topo;
const app = await startApp(t, topo);
const admin = await loginAdmin(app);
const buyer = await login(app, 'buyer');
const productId = await createProduct(app, admin.auth, { stock: 1000 });

const buy = (key: string, quantity = 1) =>
  call(app, 'POST', '/api/v1/purchases', {
    auth: buyer.auth,
    body: { productId, quantity },
    headers: { 'idempotency-key': key },
  });

/** Retries one purchase with the same key, as a careful client would, until it is acknowledged. */
async function buyUntilAcknowledged(key: string, deadlineMs: number): Promise<{ res: Call; attempts: Call[] }> {
  const attempts: Call[] = [];
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const res = await buy(key);
    attempts.push(res);
    if (res.status === 201) return { res, attempts };
    await sleep(200);
  }
  throw new Error(`no 201 within ${deadlineMs} ms; last: ${JSON.stringify(attempts.at(-1)?.body)}`);
}

const acknowledged: string[] = [];
// Stock as stored on the master: the source of truth for stock decisions (replicas may trail by a moment).
const storedStock = async () => Number(await app.redis.master.hget(app.redis.keys.product(productId), 'stock'));

t.test('a purchase acknowledged before any fault', async (t) => {
  const res = await buy('before-faults', 2);
  t.equal(res.status, 201);
  acknowledged.push(res.body.id);
});

t.test('no replica confirms: 503 NOT_DURABLE, and a retry with the same key replays once they are back', async (t) => {
  const master = await topology.masterAddress();
  const replicas = topology.options.redisPorts.filter((port) => port !== master.port);
  const stockBefore = await storedStock();
  for (const port of replicas) topology.pause(port);
  let res: Call;
  try {
    res = await buy('while-replicas-paused');
  } finally {
    for (const port of replicas) topology.resume(port);
  }
  assertError(t, res, 503, 'NOT_DURABLE');
  t.equal(res.headers['retry-after'], '1');
  for (const port of replicas) await topology.waitForReplicaOf(port, master.port, 15_000);

  const retry = await buy('while-replicas-paused');
  t.equal(retry.status, 201, 'the retry is acknowledged');
  t.equal(retry.headers['idempotent-replayed'], 'true', 'as a replay of the write that was not yet durable');
  t.equal(await storedStock(), stockBefore - 1, 'charged once');
  acknowledged.push(retry.body.id);
});

t.test('master paused: purchases resume on the promoted replica; the old master rejoins as a replica', async (t) => {
  const old = await topology.masterAddress();
  const switchesBefore = (await app.businessMetrics.masterSwitches.get()).values[0]?.value ?? 0;
  topology.pause(old.port);
  const pausedAt = Date.now();
  let resumed = false;
  t.teardown(() => {
    if (!resumed) topology.resume(old.port);
  });

  const { res, attempts } = await buyUntilAcknowledged('during-failover', 30_000);
  const elapsed = Date.now() - pausedAt;
  t.comment(`first acknowledged purchase ${elapsed} ms after the pause, after ${attempts.length} attempts`);
  t.ok(
    attempts.slice(0, -1).every((a) => a.status === 503 || a.body?.code === 'REQUEST_IN_PROGRESS'),
    'while the master is gone, purchases fail fast with a retryable 503 (or 409 in progress), never another 5xx',
  );
  acknowledged.push(res.body.id);

  const promoted = await topology.waitForFailover(old.port, 15_000);
  t.not(promoted.port, old.port, 'a replica was promoted');
  const ready = await call(app, 'GET', '/health/ready');
  t.equal(ready.status, 200, 'ready again on the new master');
  t.ok(
    ((await app.businessMetrics.masterSwitches.get()).values[0]?.value ?? 0) > switchesBefore,
    'the switch was counted',
  );

  topology.resume(old.port);
  resumed = true;
  await topology.waitForReplicaOf(old.port, promoted.port, 40_000);
  t.pass('the old master is a replica of the new one');

  const after = await buy('after-rejoin');
  t.equal(after.status, 201, 'writes keep working after the old master rejoined');
  acknowledged.push(after.body.id);
});

t.test('nothing acknowledged was lost, and stock adds up', async (t) => {
  for (const id of acknowledged) {
    const res = await call(app, 'GET', `/api/v1/purchases/${id}`, { auth: buyer.auth });
    t.equal(res.status, 200, `acknowledged purchase ${id} is there`);
  }
  const mine = await call(app, 'GET', '/api/v1/purchases?limit=100', { auth: buyer.auth });
  const units = mine.body.items.reduce((sum: number, p: { quantity: number }) => sum + p.quantity, 0);
  const stock = await storedStock();
  t.equal(stock + units, 1000, 'final stock + units in stored purchases == initial stock');
  t.ok(stock >= 0);
});
