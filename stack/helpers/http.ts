/** The JSON of whichever route was called: callers read the fields that route's contract promises. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one route's body is another's shape
export type JsonBody = any;

/** One JSON exchange over HTTP, as the seed, the drill and the tests make them. */
export interface JsonAnswer {
  status: number;
  /** Lower-case names, as Fastify's inject answers them too: tests read both the same way. */
  headers: Record<string, string>;
  body: JsonBody;
  text: string;
}

export interface JsonRequestOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/**
 * One JSON request to base + url within timeoutMs. A body that is not JSON (a proxy's HTML page) is
 * undefined: the status says enough. Rejects when no answer came (timeout, refused, reset).
 */
export async function jsonRequest(base: string, method: string, url: string, opts: JsonRequestOptions) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + url, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body: parseJson(text),
    text,
  } satisfies JsonAnswer;
}

function parseJson(text: string): JsonBody {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
