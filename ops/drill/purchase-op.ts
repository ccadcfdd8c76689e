import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Answer } from './http.js';

/** One HTTP attempt of an operation (times are epoch milliseconds). */
export interface Attempt {
  startedAt: number;
  endedAt: number;
  status: number;
  code: string;
  /** The purchase id of a 201. */
  purchaseId?: string;
}

/** Jepsen's vocabulary: ok (acknowledged), failed (definitely not done), unknown (never learned). */
export type Outcome = 'pending' | 'ok' | 'failed' | 'unknown';

/** The fields a 201 acknowledges, as the contract's Purchase. */
export interface AcknowledgedPurchase {
  id: string;
  userId: string;
  productId: string;
  quantity: number;
  unitPriceCents: number;
  totalCents: number;
  createdAt: string;
}

/** A keyed purchase: every attempt carries the same Idempotency-Key and body. */
export interface PurchaseOp {
  key: string;
  userId: string;
  productId: string;
  quantity: number;
  invokedAt: number;
  outcome: Outcome;
  attempts: Attempt[];
  /** The first 201's body. */
  acknowledged?: AcknowledgedPurchase;
  /** Settled only by the retries after the last cycle. */
  resolvedLate?: boolean;
}

export interface Buyer {
  id: string;
  token: string;
}

const RETRY_MS = 100;
// A 409 REQUEST_IN_PROGRESS without retry-after: the service's idempotency lock is seconds long.
const IN_PROGRESS_RETRY_MS = 1000;

type Verdict = { done: 'ok' | 'failed' } | { retryInMs: number };

/** What a careful client does with an answer to a keyed purchase. */
export function verdict(answer: Answer): Verdict {
  if (answer.status === 201) return { done: 'ok' };
  if (answer.status === 409 && answer.code === 'REQUEST_IN_PROGRESS') {
    return { retryInMs: answer.retryAfterMs ?? IN_PROGRESS_RETRY_MS };
  }
  if (answer.status === 429) return { retryInMs: answer.retryAfterMs ?? IN_PROGRESS_RETRY_MS };
  // No answer or a 5xx: the purchase may or may not have happened; the same key finds out.
  if (answer.status === 0 || answer.status >= 500) return { retryInMs: RETRY_MS };
  // 404 PRODUCT_NOT_FOUND, 409 OUT_OF_STOCK, 422 IDEMPOTENCY_KEY_REUSED, or a 4xx the drill did not expect.
  return { done: 'failed' };
}

/**
 * Sends op (again) until a definite answer, or until keepGoing() says the drill is over: then 'unknown'.
 * The attempt in flight at that moment still completes, bounded by timeoutMs. Every attempt lands in op.
 */
export async function settle(
  base: string,
  buyer: Buyer,
  op: PurchaseOp,
  timeoutMs: number,
  keepGoing: () => boolean,
): Promise<Exclude<Outcome, 'pending'>> {
  while (keepGoing()) {
    const startedAt = Date.now();
    const answer = await request(base, 'POST', '/api/v1/purchases', {
      token: buyer.token,
      headers: { 'idempotency-key': op.key },
      body: { productId: op.productId, quantity: op.quantity },
      timeoutMs,
    });
    const attempt: Attempt = { startedAt, endedAt: Date.now(), status: answer.status, code: answer.code };
    if (answer.status === 201) {
      attempt.purchaseId = String(answer.body?.id);
      op.acknowledged ??= answer.body as AcknowledgedPurchase;
    }
    op.attempts.push(attempt);
    const result = verdict(answer);
    if ('done' in result) return result.done;
    await sleep(result.retryInMs);
  }
  return 'unknown';
}
