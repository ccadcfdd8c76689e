import t, { type Test } from 'tap';
import { freePorts } from './helpers/fixtures.js';
import {
  contractErrorProblems,
  describeOutcome,
  rawExchange,
  requestBytes,
  type RawOutcome,
  type RawRequest,
} from './helpers/fuzz-http.js';
import { fakeUpstream, startTestNginx } from './helpers/stack.js';

/** Every answer NGINX makes itself is the contract's JSON error, whatever the client sent. */

const get = (target: string, headers: [string, string][] = []): RawRequest => ({ method: 'GET', target, headers });
/** A POST whose headers say what they say: a Content-Length only when the body has no framing header. */
const post = (headers: [string, string][], body?: string): RawRequest => ({
  method: 'POST',
  target: '/api/v1/products',
  headers,
  body,
});
const bytes = (text: string) => Buffer.from(text, 'latin1');

/** Hostile requests (as no HTTP client would send them), by the answer NGINX must give each. */
const HOSTILE: { status: number; code: string; cases: [string, RawRequest | Buffer][] }[] = [
  {
    status: 400,
    code: 'BAD_REQUEST',
    cases: [
      ['a NUL byte in the path, percent-encoded', get('/api/v1/products/%00')],
      ['a raw NUL byte in the path', get('/api/v1/products/\0')],
      ['a raw control character in the path', get('/api/v1/products/a\x01b')],
      ['raw UTF-8 in the path', get('/api/v1/products/\xc3\xa9')],
      ['raw UTF-8 in the query', get('/api/v1/products?cursor=\xc3\xa9')],
      ['a raw byte above 0x7E in a purchase', { ...post([], '{}'), target: '/api/v1/purchases?\xff' }],
      ['raw UTF-8 under /docs/', get('/docs/\xc3\xa9')],
      ['a broken percent-encoding', get('/api/v1/products/%E0%A4%A')],
      ['a path that climbs above the root', get('/../../etc/passwd')],
      ['a request line that is not one', bytes('GARBAGE\r\n\r\n')],
      ['a method with a character no method has', { ...get('/api/v1/products'), method: 'G@T' }],
      ['a lower-case method', { ...get('/api/v1/products'), method: 'get' }],
      ["HTTP/2's preface on the HTTP/1 port", bytes('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
      ['CONNECT', { method: 'CONNECT', target: 'example.com:443' }],
      ['an HTTP/1.1 request without Host', { ...get('/api/v1/products'), host: false }],
      [
        'two Host headers',
        get('/api/v1/products', [
          ['Host', 'a'],
          ['Host', 'b'],
        ]),
      ],
      ['a Host with a control character', get('/api/v1/products', [['Host', 'a\x01b']])],
      ['a header line without a colon', bytes('GET /api/v1/products HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')],
      ['a NUL byte in a header', get('/api/v1/products', [['X-A', 'a\0b']])],
      ['a bare CR in a header', get('/api/v1/products', [['X-A', 'a\rb']])],
      ['a header folded onto a second line', get('/api/v1/products', [['X-A', 'a\r\n b']])],
      ['a space before the colon', get('/api/v1/products', [['X-A ', 'b']])],
      [
        'Content-Length and Transfer-Encoding',
        post(
          [
            ['Content-Length', '5'],
            ['Transfer-Encoding', 'chunked'],
          ],
          '0\r\n\r\n',
        ),
      ],
      [
        'Transfer-Encoding in HTTP/1.0',
        { ...post([['Transfer-Encoding', 'chunked']], '0\r\n\r\n'), version: 'HTTP/1.0' },
      ],
      ['a Content-Length that is not a number', post([['Content-Length', 'abc']])],
      ['a negative Content-Length', post([['Content-Length', '-1']])],
      ['a Content-Length past 64 bits', post([['Content-Length', '99999999999999999999999']])],
      [
        'two Content-Lengths',
        post(
          [
            ['Content-Length', '2'],
            ['Content-Length', '3'],
          ],
          '{}',
        ),
      ],
      ['a chunk size that is not hex', post([['Transfer-Encoding', 'chunked']], 'ZZ\r\n')],
      ['a chunk size past 64 bits', post([['Transfer-Encoding', 'chunked']], 'fffffffffffffffffffff\r\n')],
    ],
  },
  {
    status: 404,
    code: 'NOT_FOUND',
    cases: [
      ['an unknown path', get('/nothing/here')],
      ['an unknown path, with a body', { method: 'DELETE', target: '/nothing', body: '{}' }],
      ['the error page itself', get('/_error')],
    ],
  },
  {
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    cases: [
      ['TRACE', { ...get('/api/v1/products'), method: 'TRACE' }],
      // Any token is a method to NGINX; Node's parser would refuse these outside the contract.
      ['a method no HTTP parser knows', { ...get('/api/v1/products'), method: 'FOO' }],
      ['a WebDAV method', { ...get('/docs/json'), method: 'PROPFIND' }],
      ['an unknown method on purchases', { ...post([], '{}'), target: '/api/v1/purchases', method: 'X_Y' }],
    ],
  },
  {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    cases: [
      ['a declared body over 64 KiB', post([['Content-Length', '100000']])],
      ['a chunked body over 64 KiB', post([['Transfer-Encoding', 'chunked']], `20000\r\n${'a'.repeat(70_000)}`)],
      ['a purchase over 64 KiB', { ...post([], 'a'.repeat(70_000)), target: '/api/v1/purchases' }],
    ],
  },
  {
    status: 414,
    code: 'URI_TOO_LONG',
    cases: [['a request line over 3 KiB', get(`/api/v1/products/${'a'.repeat(3100)}`)]],
  },
  {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    cases: [
      ['a header over 3 KiB', get('/api/v1/products', [['X-Big', 'a'.repeat(3100)]])],
      ['a bearer token over 3 KiB', get('/api/v1/users/me', [['Authorization', `Bearer ${'a'.repeat(3100)}`]])],
      [
        'headers over 12 KiB together',
        get(
          '/api/v1/products',
          [0, 1, 2, 3, 4].map((i) => [`X-H${i}`, 'a'.repeat(3000)]),
        ),
      ],
    ],
  },
  {
    status: 501,
    code: 'NOT_IMPLEMENTED',
    cases: [['an unknown Transfer-Encoding', post([['Transfer-Encoding', 'gzip']])]],
  },
  {
    status: 505,
    code: 'HTTP_VERSION_NOT_SUPPORTED',
    cases: [['HTTP/9.9', { ...get('/api/v1/products'), version: 'HTTP/9.9' }]],
  },
];

/** The outcome is one of NGINX's own answers in the contract's shape, with this status and code. */
function assertContractAnswer(t: Test, outcome: RawOutcome, status: number, code: string) {
  if (outcome.kind !== 'response') return t.fail(`an answer, not: ${describeOutcome(outcome)}`);
  const res = outcome.response;
  t.equal(res.status, status, 'status');
  t.same(contractErrorProblems(res), [], `the contract's error shape: ${describeOutcome(outcome)}`);
  t.equal(res.headers['content-type'], 'application/json');
  t.match(res.json, { statusCode: status, code });
  t.match(res.headers['x-request-id'], /^[0-9a-f]{32}$/, 'a request id made by NGINX');
  t.equal(res.headers['server'], 'nginx', 'no version in the Server header');
}

t.test('hostile requests: NGINX refuses each itself, in JSON, and no API instance sees it', async (t) => {
  const [a, b] = [await fakeUpstream(t), await fakeUpstream(t)];
  const { base } = await startTestNginx(t, [a.address, b.address]);
  const to = { host: '127.0.0.1', port: Number(new URL(base).port) };
  for (const { status, code, cases } of HOSTILE) {
    for (const [name, request] of cases) {
      await t.test(`${name}: ${status} ${code}`, async (t) => {
        const sent = Buffer.isBuffer(request) ? request : requestBytes(request);
        assertContractAnswer(t, await rawExchange(to, sent, { timeoutMs: 5000 }), status, code);
      });
    }
  }
  await t.test(
    'HTTP/0.9 (a request line with no version): the 400 JSON body alone, all HTTP/0.9 can carry',
    async (t) => {
      for (const [name, request] of [
        ['GET, no version', bytes('GET /api/v1/products\r\n')],
        ['a raw line feed in the target', requestBytes(get('/api/v1/users/a\nb', [['Authorization', 'Bearer x']]))],
        ['to a purchase', bytes('GET /api/v1/purchases\n')],
        ['under /docs', bytes('GET /docs\n')],
      ] as const) {
        const outcome = await rawExchange(to, request, { timeoutMs: 5000 });
        t.equal(outcome.kind, 'closed', `${name}: the body, then the connection closes`);
        const body: unknown = outcome.kind === 'closed' ? JSON.parse(outcome.received) : undefined;
        t.match(body, { statusCode: 400, code: 'BAD_REQUEST' }, `${name}: the contract's error`);
      }
    },
  );
  t.same([...a.seen, ...b.seen], [], 'no instance was asked');

  await t.test('and what is well-formed still goes through', async (t) => {
    const answer = async (request: RawRequest) => {
      const outcome = await rawExchange(to, requestBytes(request), { timeoutMs: 5000 });
      return outcome.kind === 'response' ? outcome.response.status : describeOutcome(outcome);
    };
    t.equal(await answer(get('/api/v1/products/%C3%A9')), 200, 'percent-encoded UTF-8 reaches the API');
    t.equal(await answer(get('/api/v1/products', [['X-Big', 'a'.repeat(3000)]])), 200, 'a header under 3 KiB');
    // HTTP/1.0 needs no Host; the API (Node) refuses an HTTP/1.1 request without one, so NGINX names one.
    t.equal(await answer({ ...get('/api/v1/products'), host: false, version: 'HTTP/1.0' }), 200, 'HTTP/1.0, no Host');
    const seen = [...a.seen, ...b.seen];
    t.equal(seen.at(-1)?.headers.host, 'localhost', 'the instance is given a Host');
    t.equal(seen.length, 3);
  });
});

t.test('statuses no request provokes here are contract JSON too', async (t) => {
  // NGINX answers 429 and 503 itself only under limit_req/limit_conn, and 500 on its own failures: a test
  // location makes it answer each, as it would, through the same error_page.
  const statuses = [400, 404, 405, 413, 414, 429, 500, 501, 502, 503, 504, 505];
  const locations = statuses.map((s) => `    location = /test-status/${s} { return ${s}; }`).join('\n');
  const upstream = await fakeUpstream(t);
  const { base } = await startTestNginx(t, [upstream.address, upstream.address], undefined, locations);
  const to = { host: '127.0.0.1', port: Number(new URL(base).port) };
  const codes: Record<number, string> = {
    400: 'BAD_REQUEST',
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    413: 'PAYLOAD_TOO_LARGE',
    414: 'URI_TOO_LONG',
    429: 'RATE_LIMITED',
    500: 'INTERNAL_ERROR',
    501: 'NOT_IMPLEMENTED',
    502: 'BAD_GATEWAY',
    503: 'SERVICE_UNAVAILABLE',
    504: 'GATEWAY_TIMEOUT',
    505: 'HTTP_VERSION_NOT_SUPPORTED',
  };
  for (const status of statuses) {
    const outcome = await rawExchange(to, requestBytes(get(`/test-status/${status}`)), { timeoutMs: 5000 });
    await t.test(`${status}`, async (t) => assertContractAnswer(t, outcome, status, codes[status] as string));
  }
});

t.test('no instance reachable: 502 BAD_GATEWAY in JSON', async (t) => {
  const closed = (await freePorts(2)).map((port) => `127.0.0.1:${port}`);
  const { base } = await startTestNginx(t, closed);
  const to = { host: '127.0.0.1', port: Number(new URL(base).port) };
  for (const request of [get('/api/v1/products'), { ...post([], '{}'), target: '/api/v1/purchases' }]) {
    const outcome = await rawExchange(to, requestBytes(request), { timeoutMs: 5000 });
    await t.test(`${request.method} ${request.target}`, async (t) =>
      assertContractAnswer(t, outcome, 502, 'BAD_GATEWAY'),
    );
  }
});
