import t from 'tap';
import { longestGap } from '../ops/drill/cycle-stats.js';
import { acknowledgedSurvive, onePurchasePerKey, stockAddsUp } from '../ops/drill/invariants.js';
import type { Outcome, PurchaseOp } from '../ops/drill/purchase-op.js';
import type { Purchase } from '../src/schemas/purchases.js';
import { purchaseFields } from '../src/stores/purchase-record.js';
import type { DrillSetup } from '../ops/drill/setup.js';
import type { StoreSnapshot } from '../ops/drill/store-snapshot.js';

// The checker must fail on what it exists to catch: a made-up history and store, one fault at a time.
const setup: DrillSetup = {
  runId: 'r',
  buyers: [{ id: 'u1', token: 't' }],
  products: [
    { id: 'p1', priceCents: 100, initialStock: 10 },
    { id: 'p2', priceCents: 200, initialStock: 10 },
  ],
};
const createdAt = '2026-01-01T00:00:00.000Z';
const cancelledAt = '2026-01-01T00:01:00.000Z';
const PRICES: Record<string, number> = { p1: 100, p2: 200 };
type Lines = [string, number][];
const purchase = (id: string, lines: Lines, status: 'completed' | 'cancelled' = 'completed'): Purchase => {
  const items = lines.map(([productId, quantity]) => {
    const unitPriceCents = PRICES[productId]!;
    return { productId, quantity, unitPriceCents, totalCents: unitPriceCents * quantity };
  });
  const totalCents = items.reduce((n, item) => n + item.totalCents, 0);
  const top = items.length === 1 ? { ...items[0], totalCents } : {};
  return {
    id,
    userId: 'u1',
    items,
    ...top,
    totalCents,
    status,
    createdAt,
    ...(status === 'cancelled' ? { cancelledAt } : {}),
  };
};
const op = (key: string, id: string, lines: Lines, ids = [id]): PurchaseOp => ({
  ...{ key, userId: 'u1', lines: lines.map(([productId, quantity]) => ({ productId, quantity })) },
  ...{ invokedAt: 0, outcome: 'ok' },
  acknowledged: purchase(id, lines),
  attempts: ids.map((purchaseId) => ({ startedAt: 0, endedAt: 1, status: 201, code: '201', purchaseId })),
});
const cancelled = (o: PurchaseOp, outcome: Outcome): PurchaseOp => ({
  ...o,
  cancel: {
    invokedAt: 2,
    outcome,
    attempts: [{ startedAt: 2, endedAt: 3, status: outcome === 'ok' ? 200 : 0, code: 'c' }],
    ...(outcome === 'ok'
      ? { acknowledged: purchase(o.acknowledged!.id, LINES[o.acknowledged!.id]!, 'cancelled') }
      : {}),
  },
});

// a: 2 × p1; b: 3 × p1; c: a basket of 1 × p1 and 4 × p2.
const LINES: Record<string, Lines> = {
  a: [['p1', 2]],
  b: [['p1', 3]],
  c: [
    ['p1', 1],
    ['p2', 4],
  ],
};

/**
 * The store after purchases a, b and c, unless `lost` names one whose whole transaction is gone; those in
 * `cancel` stored cancelled with their stock back (`givenBack` times: 1 is right).
 */
function store(opts: { lost?: string; cancel?: string[]; givenBack?: number; edit?: (p: Purchase) => Purchase } = {}) {
  const { lost, cancel = [], givenBack = 1, edit = (p: Purchase) => p } = opts;
  const ids = Object.keys(LINES).filter((id) => id !== lost);
  const kept = ids.map((id) => edit(purchase(id, LINES[id]!, cancel.includes(id) ? 'cancelled' : 'completed')));
  const stock = new Map(setup.products.map((p) => [p.id, p.initialStock]));
  for (const id of ids) {
    const times = cancel.includes(id) ? 1 - givenBack : 1;
    for (const [productId, quantity] of LINES[id]!) stock.set(productId, stock.get(productId)! - times * quantity);
  }
  const record = (id: string) => ({ state: 'done' as const, fingerprint: 'f', purchaseId: id });
  const snapshot: StoreSnapshot = {
    indexed: new Map(kept.map((p) => [p.id, purchaseFields(p)])),
    byId: new Map(kept.map((p) => [p.id, purchaseFields(p)])),
    userIndex: new Map([['u1', new Set(kept.map((p) => p.id))]]),
    stock,
    records: kept.map((p) => ({ userId: 'u1', key: `k-${p.id}`, record: record(p.id) })),
  };
  return snapshot;
}
const history = Object.entries(LINES).map(([id, lines]) => op(`k-${id}`, id, lines));
const withCancel = (outcome: Outcome, id = 'c') =>
  history.map((o) => (o.acknowledged?.id === id ? cancelled(o, outcome) : o));
const data = (ops: PurchaseOp[], snapshot: StoreSnapshot) => [
  acknowledgedSurvive(ops, snapshot),
  stockAddsUp(ops, setup, snapshot),
  onePurchasePerKey(ops, setup, snapshot),
];

t.test('a faithful store passes every data invariant', async (t) => {
  for (const i of data(history, store())) t.ok(i.pass, i.name, { counts: i.counts, examples: i.examples });
});

t.test('a purchase lost with its whole transaction fails 1, 2 (stock above its bound) and 3', async (t) => {
  const snapshot = store({ lost: 'b' });
  t.match(acknowledgedSurvive(history, snapshot), { pass: false, counts: { lost: 1 } });
  t.match(stockAddsUp(history, setup, snapshot), { pass: false, counts: { unbalanced: 0, outOfBounds: 1 } });
  t.match(onePurchasePerKey(history, setup, snapshot), { pass: false, counts: { keysNamingAnotherPurchase: 1 } });
});

t.test('a key whose 201s named two purchases fails 3', async (t) => {
  const twice = history.map((o, i) => (i === 0 ? op('k-a', 'a', LINES.a!, ['a', 'a2']) : o));
  t.match(onePurchasePerKey(twice, setup, store()), { pass: false, counts: { keysWithTwoPurchases: 1 } });
});

t.test("a basket's line altered in its items (the single-line fields cannot show it) fails 1", async (t) => {
  const edit = (p: Purchase) =>
    p.id === 'c' ? { ...p, items: p.items.map((l, i) => (i === 1 ? { ...l, quantity: 3 } : l)) } : p;
  t.match(acknowledgedSurvive(history, store({ edit })), { pass: false, counts: { altered: 1 } });
  const total = (p: Purchase) => (p.id === 'a' ? { ...p, totalCents: 1 } : p);
  t.match(acknowledgedSurvive(history, store({ edit: total })), { pass: false, counts: { altered: 1 } });
});

t.test('an acknowledged cancellation stored cancelled, its stock back once, passes', async (t) => {
  const snapshot = store({ cancel: ['c'] });
  for (const i of data(withCancel('ok'), snapshot)) t.ok(i.pass, i.name, { counts: i.counts, examples: i.examples });
  t.match(stockAddsUp(withCancel('ok'), setup, snapshot).counts, { unitsGivenBack: 5 });
});

t.test('a cancellation whose outcome is unknown may be stored either way', async (t) => {
  for (const snapshot of [store(), store({ cancel: ['c'] })]) {
    for (const i of data(withCancel('unknown'), snapshot)) t.ok(i.pass, i.name, { examples: i.examples });
  }
});

t.test('an acknowledged cancellation not stored fails 1', async (t) => {
  t.match(acknowledgedSurvive(withCancel('ok'), store()), { pass: false, counts: { wrongStatus: 1 } });
  const late = (p: Purchase) => (p.id === 'c' ? { ...p, cancelledAt: createdAt } : p);
  const snapshot = store({ cancel: ['c'], edit: late });
  t.match(acknowledgedSurvive(withCancel('ok'), snapshot), { pass: false, counts: { wrongStatus: 1 } });
});

t.test('a purchase cancelled though its cancellation failed, or was never asked, fails 1 and 2', async (t) => {
  for (const ops of [withCancel('failed'), history]) {
    const snapshot = store({ cancel: ['c'] });
    t.match(acknowledgedSurvive(ops, snapshot), { pass: false, counts: { wrongStatus: 1 } });
    t.match(stockAddsUp(ops, setup, snapshot), { pass: false, counts: { unbalanced: 0, outOfBounds: 2 } });
  }
});

t.test('stock given back twice fails 2, on every product of the basket', async (t) => {
  const snapshot = store({ cancel: ['c'], givenBack: 2 });
  t.match(stockAddsUp(withCancel('ok'), setup, snapshot), { pass: false, counts: { unbalanced: 2, outOfBounds: 2 } });
  t.ok(acknowledgedSurvive(withCancel('ok'), snapshot).pass, 'the purchase itself is as acknowledged');
});

t.test('stock not given back for a cancelled purchase fails 2', async (t) => {
  const snapshot = store({ cancel: ['c'], givenBack: 0 });
  t.match(stockAddsUp(withCancel('ok'), setup, snapshot), { pass: false, counts: { unbalanced: 2, outOfBounds: 2 } });
});

t.test('write outage: the longest gap between 201s from the last one before the fault to the end', async (t) => {
  t.equal(longestGap([0, 100, 900, 1000], 150, 0, 1100), 800);
  t.equal(longestGap([0, 100], 150, 0, 1100), 1000, 'no 201 after the fault: the outage lasts to the end');
});
