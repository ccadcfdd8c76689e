import { purchaseFromHash } from '../../src/stores/purchase-record.js';
import type { Purchase } from '../../src/schemas/purchases.js';
import type { AcknowledgedPurchase, PurchaseOp } from './purchase-op.js';
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

// What an acknowledgement fixes for good; status and cancelledAt only a cancellation changes.
const FIELDS = ['id', 'userId', 'totalCents', 'createdAt', 'productId', 'quantity', 'unitPriceCents'] as const;
// A one-line purchase keeps its line at the top of its hash too.
const LINE_FIELDS = ['productId', 'quantity', 'unitPriceCents'] as const;
const EXAMPLES = 5;

export const invariant = (
  id: number,
  name: string,
  counts: Record<string, number>,
  failures: string[][],
): Invariant => ({
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

/** A stored hash as the API reads it back; undefined when it cannot be read at all. */
function readBack(hash: Record<string, string>): Purchase | undefined {
  try {
    return purchaseFromHash(hash);
  } catch {
    return undefined;
  }
}

/**
 * The fields of a stored purchase (read back as the API reads it, and a one-line purchase's own line fields in
 * the hash) that differ from what was acknowledged.
 */
function differences(acknowledged: AcknowledgedPurchase, hash: Record<string, string>): string[] {
  const stored = readBack(hash);
  if (!stored) return ['unreadable'];
  const differs: string[] = FIELDS.filter((f) => String(acknowledged[f]) !== String(stored[f]));
  if (JSON.stringify(acknowledged.items) !== JSON.stringify(stored.items)) differs.push('items');
  if (acknowledged.items.length === 1) {
    const raw = LINE_FIELDS.filter((f) => String(acknowledged[f]) !== hash[f]).map((f) => `hash ${f}`);
    differs.push(...raw);
  }
  return differs;
}

/**
 * The status a purchase must be stored with: cancelled once its cancellation was acknowledged, completed when
 * none was sent or it definitely failed; undefined (either) when the cancellation's outcome is unknown.
 */
export function expectedStatus(op: PurchaseOp): 'completed' | 'cancelled' | undefined {
  const outcome = op.cancel?.outcome;
  if (outcome === 'ok') return 'cancelled';
  if (outcome === undefined || outcome === 'failed') return 'completed';
  return undefined;
}

/**
 * 1. Every 201 is stored with the very lines, total and times it acknowledged (read back as the API reads it),
 * in both indexes; and with the status its cancellation's outcome requires (an acknowledged cancellation with the
 * cancelledAt its 200 named).
 */
export function acknowledgedSurvive(ops: PurchaseOp[], snapshot: StoreSnapshot): Invariant {
  const lost: string[] = [];
  const altered: string[] = [];
  const wrongStatus: string[] = [];
  const unindexed: string[] = [];
  const acknowledged = ops.filter((op) => op.outcome === 'ok' && op.acknowledged);
  for (const op of acknowledged) {
    const { key, acknowledged: purchase } = op;
    if (!purchase) continue;
    const hash = snapshot.byId.get(purchase.id);
    const stored = hash && readBack(hash);
    const differs = hash ? differences(purchase, hash) : [];
    const status = expectedStatus(op);
    const cancelledAt = op.cancel?.acknowledged?.cancelledAt;
    if (isLost(op, snapshot)) lost.push(`lost: key ${key} → purchase ${purchase.id}`);
    else if (differs.length > 0) altered.push(`altered: purchase ${purchase.id} (${differs.join(', ')})`);
    else if (status !== undefined && stored?.status !== status) {
      wrongStatus.push(`purchase ${purchase.id} stored ${stored?.status}, its cancellation ${op.cancel?.outcome}`);
    } else if (status === 'cancelled' && stored?.cancelledAt !== cancelledAt) {
      wrongStatus.push(`purchase ${purchase.id} cancelled at ${stored?.cancelledAt}, acknowledged ${cancelledAt}`);
    } else if (!snapshot.indexed.has(purchase.id) || !snapshot.userIndex.get(purchase.userId)?.has(purchase.id)) {
      unindexed.push(`unindexed: purchase ${purchase.id}`);
    }
  }
  const counts = {
    acknowledged: acknowledged.length,
    cancelsAcknowledged: acknowledged.filter((op) => op.cancel?.outcome === 'ok').length,
    lost: lost.length,
    altered: altered.length,
    wrongStatus: wrongStatus.length,
    unindexed: unindexed.length,
  };
  const name = 'every acknowledged purchase is stored, unchanged (but for an acknowledged cancellation) and indexed';
  return invariant(1, name, counts, [lost, altered, wrongStatus, unindexed]);
}

/**
 * The units of `productId` an op may have kept sold, at most and at least: a definite failure sold nothing; an
 * unknown purchase, or an acknowledged one whose cancellation is unknown, may or may not hold its units; an
 * acknowledged cancellation gave them back.
 */
export function unitsHeld(op: PurchaseOp, productId: string): { most: number; least: number } {
  const units = sum(op.lines.filter((line) => line.productId === productId).map((line) => line.quantity));
  if (op.outcome === 'failed' || op.outcome === 'pending') return { most: 0, least: 0 };
  if (op.outcome === 'unknown') return { most: units, least: 0 };
  const status = expectedStatus(op);
  if (status === 'cancelled') return { most: 0, least: 0 };
  return { most: units, least: status === 'completed' ? units : 0 };
}

/**
 * 2. Per product: final stock + units in stored purchases not cancelled == initial stock (so stock came back
 * once per cancellation, never twice), stock ≥ 0, and Jepsen's bounds over what was attempted and acknowledged.
 */
export function stockAddsUp(ops: PurchaseOp[], setup: DrillSetup, snapshot: StoreSnapshot): Invariant {
  const unbalanced: string[] = [];
  const negative: string[] = [];
  const outOfBounds: string[] = [];
  let unitsStored = 0;
  let unitsGivenBack = 0;
  const stored = [...snapshot.indexed.values()].map((hash) => readBack(hash));
  for (const product of setup.products) {
    let units = 0;
    for (const purchase of stored) {
      const lines = (purchase?.items ?? []).filter((line) => line.productId === product.id);
      const quantity = sum(lines.map((line) => line.quantity));
      if (purchase?.status === 'cancelled') unitsGivenBack += quantity;
      else units += quantity;
    }
    const held = ops.map((op) => unitsHeld(op, product.id));
    const least = sum(held.map((h) => h.least));
    const most = sum(held.map((h) => h.most));
    const stock = snapshot.stock.get(product.id) ?? NaN;
    const initial = product.initialStock;
    unitsStored += units;
    const name = `product ${product.id}: stock ${stock}`;
    if (stock + units !== initial) {
      unbalanced.push(`${name} + ${units} units in stored purchases not cancelled ≠ ${initial}`);
    }
    if (!(stock >= 0)) negative.push(name);
    if (!(initial - most <= stock && stock <= initial - least)) {
      const bounds = `[${initial - most}, ${initial - least}]`;
      outOfBounds.push(`${name} outside [initial − units maybe held, initial − units surely held] = ${bounds}`);
    }
  }
  const counts = {
    products: setup.products.length,
    unbalanced: unbalanced.length,
    negative: negative.length,
    outOfBounds: outOfBounds.length,
    unitsStored,
    unitsGivenBack,
  };
  const name =
    'per product, stock + units sold (not cancelled) == initial, stock ≥ 0, ' +
    'within [initial − maybe held, − surely held]';
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
