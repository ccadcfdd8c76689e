import { connect } from 'node:net';

/**
 * HTTP/1.1 over a bare socket, for requests no HTTP client would send (NUL bytes, control characters, broken
 * request lines, duplicate headers, bodies that lie about their length) and for telling an answer from a
 * connection dropped or left hanging.
 */

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export type RawOutcome =
  | { kind: 'response'; response: RawResponse; ms: number }
  /** Closed (FIN or RST) before a whole response came; `received` is what did. */
  | { kind: 'closed'; how: 'end' | 'reset'; received: string; ms: number }
  | { kind: 'timeout'; received: string; ms: number };

export interface Address {
  host: string;
  port: number;
}

export interface RawRequest {
  method: string;
  /** The request target as sent, byte for byte (latin1: one char per byte). */
  target: string;
  /** Sent in order, as given; a Host header is added unless one is given (or `host: false`). */
  headers?: [string, string][];
  body?: Buffer | string;
  /** Adds Content-Length for a body unless the headers already say how long it is. Default true. */
  contentLength?: boolean;
  host?: boolean;
  version?: string;
}

/** The bytes of one request; `Connection: close`, so that each exchange has a socket of its own. */
export function requestBytes(r: RawRequest): Buffer {
  const headers = [...(r.headers ?? [])];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (r.host !== false && !has('host')) headers.unshift(['Host', 'localhost']);
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  if (body && r.contentLength !== false && !has('content-length') && !has('transfer-encoding'))
    headers.push(['Content-Length', String(body.length)]);
  if (!has('connection')) headers.push(['Connection', 'close']);
  const lines = headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const head = `${r.method} ${r.target} ${r.version ?? 'HTTP/1.1'}\r\n${lines}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body ?? Buffer.alloc(0)]);
}

/**
 * Sends `request` (or its pieces, `gapMs` apart) and waits up to timeoutMs for a whole response, which ends
 * the exchange at once (NGINX may linger on a connection after answering). HEAD answers have no body.
 */
export function rawExchange(
  to: Address,
  request: Buffer | Buffer[],
  opts: { timeoutMs: number; gapMs?: number; head?: boolean },
): Promise<RawOutcome> {
  const pieces = Array.isArray(request) ? request : [request];
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const socket = connect(to.port, to.host);
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (outcome: RawOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const ms = () => Date.now() - startedAt;
    const timer = setTimeout(
      () => finish({ kind: 'timeout', received: received.toString('latin1'), ms: ms() }),
      opts.timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const response = parseResponse(received, opts.head ?? false, false);
      if (response) finish({ kind: 'response', response, ms: ms() });
    });
    socket.on('end', () => {
      const response = parseResponse(received, opts.head ?? false, true);
      finish(
        response
          ? { kind: 'response', response, ms: ms() }
          : { kind: 'closed', how: 'end', received: received.toString('latin1'), ms: ms() },
      );
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after a whole response is still that response.
      const response = parseResponse(received, opts.head ?? false, true);
      if (response) return finish({ kind: 'response', response, ms: ms() });
      const how = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'end';
      finish({ kind: 'closed', how, received: received.toString('latin1'), ms: ms() });
    });
    socket.on('connect', async () => {
      for (const [i, piece] of pieces.entries()) {
        if (done) return;
        if (i > 0 && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (!done && !socket.destroyed) socket.write(piece);
      }
    });
  });
}

/** A whole response in `bytes` (skipping 1xx), or undefined while more is needed. `ended`: no more will come. */
function parseResponse(bytes: Buffer, head: boolean, ended: boolean): RawResponse | undefined {
  let rest = bytes;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!match) return undefined;
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    const bodyBytes = rest.subarray(end + 4);
    if (status >= 100 && status < 200) {
      rest = bodyBytes;
      continue;
    }
    let body: Buffer | undefined;
    if (head || status === 204 || status === 304) body = Buffer.alloc(0);
    else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(bodyBytes);
    else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (bodyBytes.length >= length) body = bodyBytes.subarray(0, length);
    } else if (ended) body = bodyBytes;
    if (!body) return undefined;
    const text = body.toString('utf8');
    return { status, headers, text, json: parseJson(text) };
  }
}

function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** A one-line account of an outcome, for assertion messages and reproducers. */
export function describeOutcome(o: RawOutcome): string {
  if (o.kind === 'response') {
    const { status, headers, text } = o.response;
    return `${status} (${headers['content-type'] ?? 'no content-type'}) ${text.slice(0, 300)}`;
  }
  const what = o.kind === 'closed' ? `connection closed (${o.how})` : 'no answer (timeout)';
  return `${what} after ${o.ms} ms, ${o.received.length} bytes received: ${JSON.stringify(o.received.slice(0, 200))}`;
}

export const ERROR_CODE = /^[A-Z][A-Z_]*$/;

/**
 * What an error answer gets wrong against the contract (none: []): JSON with exactly statusCode, code, error
 * and message (409 OUT_OF_STOCK also `details`, the short lines), its statusCode the status, a stable UPPER_SNAKE
 * code, and an x-request-id.
 */
export function contractErrorProblems(res: RawResponse): string[] {
  const problems: string[] = [];
  if (!/^application\/json\b/.test(res.headers['content-type'] ?? '')) {
    problems.push(`content-type ${res.headers['content-type'] ?? 'missing'}`);
  }
  if (!res.headers['x-request-id']) problems.push('no x-request-id');
  const body = res.json as Record<string, unknown> | undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return [...problems, 'body is not a JSON object'];
  const keys = Object.keys(body).sort().join(',');
  const outOfStock = body.code === 'OUT_OF_STOCK' && res.status === 409;
  const expected = outOfStock ? 'code,details,error,message,statusCode' : 'code,error,message,statusCode';
  if (keys !== expected) problems.push(`fields ${keys}`);
  if (outOfStock) problems.push(...detailsProblems(body.details));
  if (body.statusCode !== res.status) problems.push(`statusCode ${String(body.statusCode)} for status ${res.status}`);
  if (typeof body.code !== 'string' || !ERROR_CODE.test(body.code)) problems.push(`code ${JSON.stringify(body.code)}`);
  if (typeof body.error !== 'string' || typeof body.message !== 'string')
    problems.push('error or message not a string');
  return problems;
}

/** What OUT_OF_STOCK's details get wrong: one entry per short line, productId, requested above available. */
function detailsProblems(details: unknown): string[] {
  if (!Array.isArray(details) || details.length === 0) return ['OUT_OF_STOCK details not a non-empty array'];
  const bad = details.filter((d: unknown) => {
    if (typeof d !== 'object' || d === null) return true;
    const { productId, requested, available, ...rest } = d as Record<string, unknown>;
    return (
      typeof productId !== 'string' ||
      !Number.isInteger(requested) ||
      !Number.isInteger(available) ||
      (available as number) < 0 ||
      (requested as number) <= (available as number) ||
      Object.keys(rest).length > 0
    );
  });
  return bad.length > 0 ? [`OUT_OF_STOCK details ${JSON.stringify(bad).slice(0, 200)}`] : [];
}
