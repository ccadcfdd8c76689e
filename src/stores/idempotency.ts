import { createHash, randomUUID } from 'node:crypto';

/**
 * Idempotency records (one Redis string per user and key). A request claims its key with a `pending`
 * record that expires after a short lock; the purchase transaction replaces it with a `done` record,
 * kept for the published retention, in the same EXEC as the stock decrement.
 */
export type IdempotencyRecord =
  { state: 'pending'; fingerprint: string; owner: string } | { state: 'done'; fingerprint: string; purchaseId: string };

/** Same user + same key + same fingerprint = the same request. */
export function fingerprint(body: { productId: string; quantity: number }): string {
  return createHash('sha256')
    .update(JSON.stringify([body.productId, body.quantity]))
    .digest('base64url');
}

export const pendingRecord = (fp: string): string =>
  JSON.stringify({ state: 'pending', fingerprint: fp, owner: randomUUID() });

export const doneRecord = (fp: string, purchaseId: string): string =>
  JSON.stringify({ state: 'done', fingerprint: fp, purchaseId });

export function parseRecord(raw: string): IdempotencyRecord {
  return JSON.parse(raw) as IdempotencyRecord;
}
