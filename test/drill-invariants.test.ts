import t from 'tap';
import { longestGap } from '../ops/drill/cycle-stats.js';
import { acknowledgedSurvive, onePurchasePerKey, stockAddsUp } from '../ops/drill/invariants.js';
import type { PurchaseOp } from '../ops/drill/purchase-op.js';
import type { DrillSetup } from '../ops/drill/setup.js';
import type { StoreSnapshot } from '../ops/drill/store-snapshot.js';

// The checker must fail on what it exists to catch: a made-up history and store, one fault at a time.
const setup: DrillSetup = {
  runId: 'r',
  buyers: [{ id: 'u1', token: 't' }],
  products: [{ id: 'p1', priceCents: 100, initialStock: 10 }],
};
const createdAt = '2026-01-01T00:00:00.000Z';
const purchase = (id: string, quantity: number) => {
  return { id, userId: 'u1', productId: 'p1', quantity, unitPriceCents: 100, totalCents: 100 * quantity, createdAt };
};
const op = (key: string, id: string, quantity: number, ids = [id]): PurchaseOp => ({
  ...{ key, userId: 'u1', productId: 'p1', quantity, invokedAt: 0, outcome: 'ok' },
  acknowledged: purchase(id, quantity),
  attempts: ids.map((purchaseId) => ({ startedAt: 0, endedAt: 1, status: 201, code: '201', purchaseId })),
});
const hash = (p: ReturnType<typeof purchase>) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)]));

/** The store after purchases a (2 units) and b (3 units), unless `lost` names one whose whole transaction is gone. */
function store(lost?: string): StoreSnapshot {
  const kept = [purchase('a', 2), purchase('b', 3)].filter((p) => p.id !== lost);
  const units = kept.reduce((n, p) => n + p.quantity, 0);
  const record = (id: string) => ({ state: 'done' as const, fingerprint: 'f', purchaseId: id });
  return {
    indexed: new Map(kept.map((p) => [p.id, hash(p)])),
    byId: new Map(kept.map((p) => [p.id, hash(p)])),
    userIndex: new Map([['u1', new Set(kept.map((p) => p.id))]]),
    stock: new Map([['p1', 10 - units]]),
    records: kept.map((p) => ({ userId: 'u1', key: `k-${p.id}`, record: record(p.id) })),
  };
}
const history = [op('k-a', 'a', 2), op('k-b', 'b', 3)];

t.test('a faithful store passes every data invariant', async (t) => {
  const snapshot = store();
  const invariants = [acknowledgedSurvive(history, snapshot), stockAddsUp(history, setup, snapshot)];
  for (const i of [...invariants, onePurchasePerKey(history, setup, snapshot)]) {
    t.ok(i.pass, i.name, { counts: i.counts, examples: i.examples });
  }
});

t.test('a purchase lost with its whole transaction fails 1, 2 (stock above its bound) and 3', async (t) => {
  const snapshot = store('b');
  t.match(acknowledgedSurvive(history, snapshot), { pass: false, counts: { lost: 1 } });
  t.match(stockAddsUp(history, setup, snapshot), { pass: false, counts: { unbalanced: 0, outOfBounds: 1 } });
  t.match(onePurchasePerKey(history, setup, snapshot), { pass: false, counts: { keysNamingAnotherPurchase: 1 } });
});

t.test('a key whose 201s named two purchases fails 3', async (t) => {
  const twice = [op('k-a', 'a', 2, ['a', 'a2']), op('k-b', 'b', 3)];
  t.match(onePurchasePerKey(twice, setup, store()), { pass: false, counts: { keysWithTwoPurchases: 1 } });
});

t.test('write outage: the longest gap between 201s from the last one before the fault to the end', async (t) => {
  t.equal(longestGap([0, 100, 900, 1000], 150, 0, 1100), 800);
  t.equal(longestGap([0, 100], 150, 0, 1100), 1000, 'no 201 after the fault: the outage lasts to the end');
});
