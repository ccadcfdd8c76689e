import { setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 100;

/**
 * Retries check every POLL_MS until it resolves; fails at once with a crash report when
 * crashed() names one, and with check's last error at the deadline.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T>,
  crashed: () => Error | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crash = crashed();
    if (crash) throw crash;
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}: ${err instanceof Error ? err.message : String(err)}`,
        );
    }
    await sleep(POLL_MS);
  }
}

/** GET url within timeoutMs; rejects unless the status is the one expected. */
export async function expectStatus(url: string, status: number, timeoutMs = 1000): Promise<void> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  if (res.status !== status) throw new Error(`${url} answered ${res.status}`);
}
