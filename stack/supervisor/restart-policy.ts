/**
 * How the supervisor brings back a process that exits unasked, as an init system's restart policy does: after a
 * backoff that doubles with each crash in the window, until too many crashes in the window say it is a crash loop.
 */
export interface RestartPolicy {
  /** The wait before the restart that follows the first crash in the window. */
  initialDelayMs: number;
  /** The doubling stops here. */
  maxDelayMs: number;
  /** Restarts allowed within windowMs: the crash after the last of them leaves the process down. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxRestarts: 5,
  windowMs: 60_000,
};

/** min(maxDelay, initialDelay × 2^(crashes in the window − 1)). */
export function restartDelayMs(policy: RestartPolicy, crashesInWindow: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, crashesInWindow - 1));
}

/** What to do about a crash: restart after delayMs, or give up (delayMs undefined). */
export interface CrashVerdict {
  /** Crashes within the window, this one included. */
  crashes: number;
  delayMs: number | undefined;
}

/** One process's recent crashes, judged against its policy. */
export class CrashHistory {
  private times: number[] = [];

  constructor(readonly policy: RestartPolicy) {}

  /** Records a crash at `at` (ms since the epoch) and says whether to restart, and when. */
  record(at: number): CrashVerdict {
    this.times = [...this.times.filter((time) => time > at - this.policy.windowMs), at];
    const crashes = this.times.length;
    // Each earlier crash in the window was followed by a restart: past maxRestarts of them, it is a crash loop.
    const delayMs = crashes > this.policy.maxRestarts ? undefined : restartDelayMs(this.policy, crashes);
    return { crashes, delayMs };
  }

  /** A deliberate new start after giving up: the loop that made it give up is over. */
  forget(): void {
    this.times = [];
  }
}

/** "0.5 s", "30 s": a delay as the reports print it. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
