import { Redis } from 'ioredis';
import { keySchema } from '../../src/redis/keys.js';
import type { Deployment } from '../deployment/deployment.js';
import { clusterView, readinessProblems, settledProblems } from './cluster-check.js';
import { acknowledgedSurvive, healedCluster, onePurchasePerKey, stockAddsUp, type Invariant } from './invariants.js';
import type { PurchaseOp } from './purchase-op.js';
import type { DrillSetup } from './setup.js';
import { readSnapshot, type StoreSnapshot } from './store-snapshot.js';
import type { DrillWatchers } from './live-watchers.js';

// Once writes stopped, replicas reach the master's offset within milliseconds; a client may take seconds to reconnect.
const CONVERGE_TIMEOUT_MS = 15_000;

export interface FinalCheck {
  invariants: Invariant[];
  /** The store as the invariants saw it. */
  snapshot: StoreSnapshot;
}

/**
 * The invariants over the whole drill (the fifth when live stock watchers were attached), the store read directly
 * on the master that the Sentinels name.
 */
export async function checkInvariants(
  deployment: Deployment,
  setup: DrillSetup,
  ops: PurchaseOp[],
  watchers?: DrillWatchers,
): Promise<FinalCheck> {
  const cluster = await settledProblems(CONVERGE_TIMEOUT_MS, async () => {
    return (await clusterView(deployment, { offsets: true, quietSentinels: false })).problems;
  });
  const readiness = await settledProblems(CONVERGE_TIMEOUT_MS, () => readinessProblems(deployment));
  const { host, port } = await deployment.master();
  const redis = new Redis({ host, port, ...deployment.redisAdmin, protocol: 2, lazyConnect: true });
  try {
    await redis.connect();
    const snapshot = await readSnapshot(redis, keySchema(deployment.keyPrefix), setup, ops);
    const invariants = [
      acknowledgedSurvive(ops, snapshot),
      stockAddsUp(ops, setup, snapshot),
      onePurchasePerKey(ops, setup, snapshot),
      healedCluster(cluster, readiness),
    ];
    if (watchers) invariants.push(await watchers.check(redis, keySchema(deployment.keyPrefix), snapshot));
    return { invariants, snapshot };
  } finally {
    redis.disconnect();
  }
}
