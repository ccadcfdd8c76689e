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

/** One line of a purchase as the drill asks for it. */
export interface Line {
  productId: string;
  quantity: number;
}

/** The fields a 201 (or a cancellation's 200) acknowledges, as the contract's Purchase. */
export interface AcknowledgedPurchase {
  id: string;
  userId: string;
  items: (Line & { unitPriceCents: number; totalCents: number })[];
  totalCents: number;
  status: 'completed' | 'cancelled';
  createdAt: string;
  cancelledAt?: string;
  /** A one-line purchase's line, at the top level too. */
  productId?: string;
  quantity?: number;
  unitPriceCents?: number;
}

/** The cancellation of an acknowledged purchase, retried like a purchase until definite. */
export interface CancelOp {
  invokedAt: number;
  outcome: Outcome;
  attempts: Attempt[];
  /** The first 200's body: the cancelled purchase. */
  acknowledged?: AcknowledgedPurchase;
  resolvedLate?: boolean;
}

/**
 * A keyed purchase: every attempt carries the same Idempotency-Key and body. One line is sent as the
 * single-product body `{productId, quantity}`, more as a basket `{items}`.
 */
export interface PurchaseOp {
  key: string;
  userId: string;
  lines: Line[];
  invokedAt: number;
  outcome: Outcome;
  attempts: Attempt[];
  /** The first 201's body. */
  acknowledged?: AcknowledgedPurchase;
  /** Settled only by the retries after the last cycle. */
  resolvedLate?: boolean;
  /** Sent only once the purchase was acknowledged. */
  cancel?: CancelOp;
}

/** The body a purchase op sends on every attempt. */
export const purchaseBody = (op: PurchaseOp): Record<string, unknown> =>
  op.lines.length === 1 ? { ...op.lines[0] } : { items: op.lines };

export interface Buyer {
  id: string;
  token: string;
}

const RETRY_MS = 100;
// A 409 REQUEST_IN_PROGRESS without retry-after: the service's idempotency lock is seconds long.
const IN_PROGRESS_RETRY_MS = 1000;

type Verdict = { done: 'ok' | 'failed' } | { retryInMs: number };

/** What a careful client does with an answer to a keyed purchase (201) or a cancellation (200). */
export function verdict(answer: Answer, success = 201): Verdict {
  if (answer.status === success) return { done: 'ok' };
  if (answer.status === 409 && answer.code === 'REQUEST_IN_PROGRESS') {
    return { retryInMs: answer.retryAfterMs ?? IN_PROGRESS_RETRY_MS };
  }
  if (answer.status === 429) return { retryInMs: answer.retryAfterMs ?? IN_PROGRESS_RETRY_MS };
  // No answer or a 5xx: the purchase may or may not have happened; the same key finds out.
  if (answer.status === 0 || answer.status >= 500) return { retryInMs: RETRY_MS };
  // 404 PRODUCT_NOT_FOUND, 409 OUT_OF_STOCK, 422 IDEMPOTENCY_KEY_REUSED, a cancellation's 403, 404 or
  // 409 CANCEL_WINDOW_CLOSED, or a 4xx the drill did not expect: nothing was done.
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
      body: purchaseBody(op),
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

/**
 * Cancels op's acknowledged purchase (again) until a definite answer or until keepGoing() says the drill is over,
 * like settle(): a 503 (NOT_DURABLE, SERVICE_UNAVAILABLE, TRY_AGAIN) or no answer may or may not have cancelled
 * it, and a repeat gives nothing back twice. Every attempt lands in op.cancel.
 */
export async function settleCancel(
  base: string,
  buyer: Buyer,
  op: PurchaseOp,
  timeoutMs: number,
  keepGoing: () => boolean,
): Promise<Exclude<Outcome, 'pending'>> {
  const cancel = op.cancel;
  const id = op.acknowledged?.id;
  if (!cancel || !id) return 'failed';
  while (keepGoing()) {
    const startedAt = Date.now();
    const answer = await request(base, 'POST', `/api/v1/purchases/${id}/cancel`, { token: buyer.token, timeoutMs });
    cancel.attempts.push({ startedAt, endedAt: Date.now(), status: answer.status, code: answer.code });
    if (answer.status === 200) cancel.acknowledged ??= answer.body as AcknowledgedPurchase;
    const result = verdict(answer, 200);
    if ('done' in result) return result.done;
    await sleep(result.retryInMs);
  }
  return 'unknown';
}
