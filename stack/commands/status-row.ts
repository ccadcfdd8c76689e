const HTTP_TIMEOUT_MS = 1000;

/** One line of `npm run status`. */
export interface Row {
  /** The process's name in the stack's record (nginx, api-3001, redis-6379, sentinel-26379, prometheus). */
  name: string;
  what: string;
  address: string;
  state: string;
  detail: string;
  ok: boolean;
}

/** A row for a process that did not answer, with the cause. */
export function downRow(name: string, what: string, address: string, err: unknown): Row {
  const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
  return { name, what, address, state: 'down', detail: cause, ok: false };
}

export async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  return { status: res.status, body: await res.text() };
}
