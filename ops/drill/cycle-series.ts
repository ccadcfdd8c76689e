import { failedRead, type Read } from './load.js';
import type { PurchaseOp } from './purchase-op.js';

/**
 * The steady load before the fault that a cycle's series starts with, for the eye to compare against: the
 * default steady time (DEFAULT_OPTIONS.steadyMs), all the load the first cycle has before it.
 */
export const LEAD_MS = 2000;

/** One second of a cycle: [ms, ms + 1000) after the fault (negative: before it). */
export interface SecondOfLoad {
  ms: number;
  /** 201s to purchase attempts that ended in this second. */
  acknowledged: number;
  /** Catalog reads that ended in it, and of those the failed ones. */
  reads: number;
  failedReads: number;
  /** Purchase answers other than 201 that ended in it, by "status code" (status 0: no answer). */
  answersByCode: Record<string, number>;
}

/**
 * Second by second from LEAD_MS before the fault (the steady load that ended the previous cycle) to the last
 * whole second of the cycle: a partial last second would look like a drop.
 */
export function cycleSeries(
  window: { faultAt: number; endAt: number },
  ops: PurchaseOp[],
  reads: Read[],
): SecondOfLoad[] {
  const { faultAt, endAt } = window;
  const from = faultAt - LEAD_MS;
  const first = Math.floor((from - faultAt) / 1000);
  const count = Math.max(0, Math.floor((endAt - faultAt) / 1000) - first);
  const seconds: SecondOfLoad[] = Array.from({ length: count }, (_, i) => ({
    ms: (first + i) * 1000,
    acknowledged: 0,
    reads: 0,
    failedReads: 0,
    answersByCode: {},
  }));
  const at = (t: number) => (t >= from ? seconds[Math.floor((t - faultAt) / 1000) - first] : undefined);
  for (const attempt of ops.flatMap((op) => op.attempts)) {
    const second = at(attempt.endedAt);
    if (!second) continue;
    if (attempt.status === 201) second.acknowledged++;
    else {
      const code = `${attempt.status} ${attempt.code}`;
      second.answersByCode[code] = (second.answersByCode[code] ?? 0) + 1;
    }
  }
  for (const read of reads) {
    const second = at(read.endedAt);
    if (!second) continue;
    second.reads++;
    if (failedRead(read)) second.failedReads++;
  }
  return seconds;
}
