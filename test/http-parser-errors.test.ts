import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startApp } from './helpers/app.js';
import { contractErrorProblems, describeOutcome, rawExchange, requestBytes } from './helpers/fuzz-http.js';
import { startTestTopology } from './helpers/topology.js';

/**
 * What Node's HTTP server refuses before Fastify sees a request (answerClientError, answerConnect in
 * src/plugins/app/error-handler.ts): straight to an instance, the contract's JSON all the same, never a bare
 * Node answer or a dropped connection.
 */

const topo = await startTestTopology(t);
const app = await startApp(t, topo);
await app.listen({ host: '127.0.0.1', port: 0 });
const to = { host: '127.0.0.1', port: (app.server.address() as AddressInfo).port };
const bytes = (text: string) => Buffer.from(text, 'latin1');

const CASES: [name: string, request: Buffer, status: number, code: string][] = [
  ['a raw NUL byte in the path', requestBytes({ method: 'GET', target: '/api/v1/products/\0' }), 400, 'BAD_REQUEST'],
  ['raw UTF-8 in the path', requestBytes({ method: 'GET', target: '/api/v1/products/\xc3\xa9' }), 400, 'BAD_REQUEST'],
  ['a method Node does not know', requestBytes({ method: 'FOO', target: '/api/v1/products' }), 400, 'BAD_REQUEST'],
  ['a request line that is not one', bytes('GARBAGE\r\n\r\n'), 400, 'BAD_REQUEST'],
  [
    'a header line without a colon',
    bytes('GET /api/v1/products HTTP/1.1\r\nHost: x\r\nBad\r\n\r\n'),
    400,
    'BAD_REQUEST',
  ],
  [
    'headers over Node’s 16 KiB',
    requestBytes({ method: 'GET', target: '/api/v1/products', headers: [['X-Big', 'a'.repeat(17_000)]] }),
    431,
    'HEADERS_TOO_LARGE',
  ],
  ['CONNECT', requestBytes({ method: 'CONNECT', target: 'example.com:443' }), 405, 'METHOD_NOT_ALLOWED'],
  ['CONNECT to a route', requestBytes({ method: 'CONNECT', target: '/api/v1/products' }), 405, 'METHOD_NOT_ALLOWED'],
];

for (const [name, request, status, code] of CASES) {
  t.test(`${name}: ${status} ${code}`, async (t) => {
    const outcome = await rawExchange(to, request, { timeoutMs: 5000 });
    if (outcome.kind !== 'response') return t.fail(`an answer, not: ${describeOutcome(outcome)}`);
    t.equal(outcome.response.status, status, describeOutcome(outcome));
    t.same(contractErrorProblems(outcome.response), [], "the contract's error shape");
    t.match(outcome.response.json, { statusCode: status, code });
    t.equal(outcome.response.headers['x-content-type-options'], 'nosniff');
  });
}

t.test('the instance still serves after all of them', async (t) => {
  const outcome = await rawExchange(to, requestBytes({ method: 'GET', target: '/api/v1/products' }), {
    timeoutMs: 5000,
  });
  t.match(outcome, { kind: 'response', response: { status: 200 } }, describeOutcome(outcome));
});
