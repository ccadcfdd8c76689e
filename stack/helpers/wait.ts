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

/**
 * GET url within timeoutMs; rejects unless the status is the one expected. Its timer is a plain (referenced)
 * one: AbortSignal.timeout's is unreferenced, so a process awaiting only this fetch could find its event loop
 * empty and exit (code 13, an unsettled top-level await) — seen once while a registry's port was published but
 * not yet served.
 */
export async function expectStatus(url: string, status: number, timeoutMs = 1000): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`no answer from ${url} within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const res = await fetch(url, { signal: controller.signal });
    await res.arrayBuffer();
    if (res.status !== status) throw new Error(`${url} answered ${res.status}`);
  } finally {
    clearTimeout(timer);
  }
}
