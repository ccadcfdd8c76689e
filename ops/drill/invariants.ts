import type { PurchaseOp } from './purchase-op.js';
import type { DrillSetup } from './setup.js';
import type { StoreSnapshot } from './store-snapshot.js';

/** One property the whole drill must keep (docs/reliability.md, "What a drill must check"). */
export interface Invariant {
  id: number;
  name: string;
  pass: boolean;
  counts: Record<string, number>;
  /** A few offending items, for whoever investigates. */
  examples: string[];
}

const FIELDS = ['id', 'userId', 'productId', 'quantity', 'unitPriceCents', 'totalCents', 'createdAt'] as const;
const EXAMPLES = 5;

const invariant = (id: number, name: string, counts: Record<string, number>, failures: string[][]): Invariant => ({
  id,
  name,
  pass: failures.every((list) => list.length === 0),
  counts,
  examples: failures.flat().slice(0, EXAMPLES),
});

/** An acknowledged purchase whose hash is gone. */
export const isLost = (op: PurchaseOp, snapshot: StoreSnapshot): boolean =>
  op.outcome === 'ok' && op.acknowledged !== undefined && !snapshot.byId.has(op.acknowledged.id);

/** Every purchase id the 201s to one key named: more than one is a key that produced two purchases. */
export const purchaseIdsOf = (op: PurchaseOp): Set<string> =>
  new Set(op.attempts.flatMap((a) => (a.purchaseId ? [a.purchaseId] : [])));

/** 1. Every 201 is stored with the very fields it acknowledged, in both indexes. */
export function acknowledgedSurvive(ops: PurchaseOp[], snapshot: StoreSnapshot): Invariant {
  const lost: string[] = [];
  const altered: string[] = [];
  const unindexed: string[] = [];
  const acknowledged = ops.filter((op) => op.outcome === 'ok' && op.acknowledged);
  for (const op of acknowledged) {
    const { key, acknowledged: purchase } = op;
    if (!purchase) continue;
    const stored = snapshot.byId.get(purchase.id);
    const differs = FIELDS.filter((f) => stored && String(purchase[f]) !== stored[f]);
    if (isLost(op, snapshot)) lost.push(`lost: key ${key} → purchase ${purchase.id}`);
    else if (differs.length > 0) altered.push(`altered: purchase ${purchase.id} (${differs.join(', ')})`);
    else if (!snapshot.indexed.has(purchase.id) || !snapshot.userIndex.get(purchase.userId)?.has(purchase.id)) {
      unindexed.push(`unindexed: purchase ${purchase.id}`);
    }
  }
  const counts = {
    acknowledged: acknowledged.length,
    lost: lost.length,
    altered: altered.length,
    unindexed: unindexed.length,
  };
  return invariant(1, 'every acknowledged purchase is stored, unchanged and indexed', counts, [
    lost,
    altered,
    unindexed,
  ]);
}

/** 2. Per product: final stock + units in stored purchases == initial stock, stock ≥ 0, and Jepsen's bounds. */
export function stockAddsUp(ops: PurchaseOp[], setup: DrillSetup, snapshot: StoreSnapshot): Invariant {
  const unbalanced: string[] = [];
  const negative: string[] = [];
  const outOfBounds: string[] = [];
  let unitsStored = 0;
  for (const product of setup.products) {
    const stored = [...snapshot.indexed.values()].filter((p) => p.productId === product.id);
    const units = sum(stored.map((p) => Number(p.quantity)));
    const mine = ops.filter((op) => op.productId === product.id);
    const acknowledged = sum(mine.filter((op) => op.outcome === 'ok').map((op) => op.quantity));
    // A definite failure wrote nothing; an unknown outcome may have.
    const attempted = sum(mine.filter((op) => op.outcome !== 'failed').map((op) => op.quantity));
    const stock = snapshot.stock.get(product.id) ?? NaN;
    const initial = product.initialStock;
    unitsStored += units;
    const name = `product ${product.id}: stock ${stock}`;
    if (stock + units !== initial) unbalanced.push(`${name} + ${units} units in stored purchases ≠ ${initial}`);
    if (!(stock >= 0)) negative.push(name);
    if (!(initial - attempted <= stock && stock <= initial - acknowledged)) {
      const bounds = `[${initial - attempted}, ${initial - acknowledged}]`;
      outOfBounds.push(`${name} outside [initial − units attempted, initial − units acknowledged] = ${bounds}`);
    }
  }
  const counts = {
    products: setup.products.length,
    unbalanced: unbalanced.length,
    negative: negative.length,
    outOfBounds: outOfBounds.length,
    unitsStored,
  };
  const name = 'per product, stock + units sold == initial, stock ≥ 0, within [initial − attempted, − acked]';
  return invariant(2, name, counts, [unbalanced, negative, outOfBounds]);
}

/** 3. One purchase per key: every 201 of a key names one purchase, and the keys' records match the stored purchases. */
export function onePurchasePerKey(ops: PurchaseOp[], setup: DrillSetup, snapshot: StoreSnapshot): Invariant {
  const twoPurchases = ops.flatMap((op) => {
    const ids = purchaseIdsOf(op);
    return ids.size > 1 ? [`key ${op.key} answered with purchases ${[...ids].join(', ')}`] : [];
  });
  const users = new Set(setup.buyers.map((b) => b.id));
  const stored = new Set([
    ...[...snapshot.indexed.values()].filter((p) => users.has(p.userId ?? '')).map((p) => p.id ?? ''),
    ...[...snapshot.userIndex.values()].flatMap((ids) => [...ids]),
  ]);
  const recorded = new Map<string, string>();
  let pending = 0;
  for (const { userId, key, record } of snapshot.records) {
    if (record.state === 'done') recorded.set(`${userId} ${key}`, record.purchaseId);
    else pending++;
  }
  const recordedIds = new Set(recorded.values());
  const withoutPurchase = [...recordedIds]
    .filter((id) => !stored.has(id))
    .map((id) => `a key's record names purchase ${id}, not stored`);
  const withoutRecord = [...stored]
    .filter((id) => !recordedIds.has(id))
    .map((id) => `purchase ${id} is named by no key's record`);
  const elsewhere = ops.flatMap((op) => {
    const named = recorded.get(`${op.userId} ${op.key}`);
    if (op.outcome !== 'ok' || named === op.acknowledged?.id) return [];
    return [`key ${op.key} acknowledged ${op.acknowledged?.id}; its record names ${named ?? 'nothing'}`];
  });
  const counts = {
    keysWithTwoPurchases: twoPurchases.length,
    recordsWithoutPurchase: withoutPurchase.length,
    purchasesWithoutRecord: withoutRecord.length,
    keysNamingAnotherPurchase: elsewhere.length,
    pendingRecords: pending,
  };
  return invariant(3, "no key produced two purchases; the keys' records match the stored purchases", counts, [
    twoPurchases,
    withoutPurchase,
    withoutRecord,
    elsewhere,
  ]);
}

/** 4. After healing: one master named by every Sentinel, replicas converged, every API instance and NGINX ready. */
export function healedCluster(clusterProblems: string[], readiness: string[]): Invariant {
  const counts = { clusterProblems: clusterProblems.length, apiProblems: readiness.length };
  const name = 'after healing: one master, every Sentinel agrees, replicas converged, every API and NGINX ready';
  return invariant(4, name, counts, [clusterProblems, readiness]);
}

function sum(values: number[]): number {
  return values.reduce((total, v) => total + v, 0);
}
