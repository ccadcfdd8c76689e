import { jsonRequest, type JsonBody, type JsonRequestOptions } from '../../stack/helpers/http.js';

/** One HTTP exchange as the drill sees it: never throws, so every outcome can be logged. */
export interface Answer {
  /** 0 when no HTTP answer came (timeout, refused, reset). */
  status: number;
  /** The contract's error code, or TIMEOUT / a socket error code when no answer came. */
  code: string;
  body: JsonBody;
  /** From retry-after, when the answer had one. */
  retryAfterMs: number | undefined;
}

export type RequestOptions = JsonRequestOptions;

/**
 * One JSON request bounded by timeoutMs. Unlike the tests' call(), a timeout or a refused connection is an
 * answer (status 0), because a drill has to record and retry it rather than stop.
 */
export async function request(base: string, method: string, url: string, opts: RequestOptions): Promise<Answer> {
  try {
    const { status, headers, body } = await jsonRequest(base, method, url, opts);
    const retryAfter = Number(headers['retry-after']);
    return {
      status,
      code: typeof body?.code === 'string' ? body.code : String(status),
      body,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    };
  } catch (err) {
    return { status: 0, code: failureCode(err), body: undefined, retryAfterMs: undefined };
  }
}

/** Like request(), but anything other than the expected status is an error (the drill's own setup calls). */
export async function expectAnswer(
  base: string,
  method: string,
  url: string,
  status: number,
  opts: RequestOptions,
): Promise<JsonBody> {
  const answer = await request(base, method, url, opts);
  if (answer.status !== status) {
    throw new Error(`${method} ${url} answered ${answer.status} ${answer.code}, not ${status}`);
  }
  return answer.body;
}

function failureCode(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'TIMEOUT';
  // undici's "fetch failed" carries the socket's reason as its cause.
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? cause.code : 'FETCH_ERROR';
}
