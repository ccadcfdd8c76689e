import t, { type Test } from 'tap';
import { startTestTopology } from './helpers/topology.js';
import { assertError, call, login, startApp, type Call } from './helpers/app.js';

const topo = await startTestTopology(t);
const app = await startApp(t, topo);
const SHOP = 'https://shop.example.com';
const DEV = 'http://localhost:5173';
const withCors = await startApp(t, topo, { CORS_ORIGINS: `${SHOP},${DEV}`, LOGIN_RATE_LIMIT_MAX: '1' });

const API_CSP = "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'";

/** The headers every API answer carries, success or error. */
function assertApiHeaders(t: Test, res: Call, what: string) {
  t.match(
    res.headers,
    {
      'content-security-policy': API_CSP,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      // HTTPS only (browsers ignore it over HTTP); this host only, not its siblings.
      'strict-transport-security': 'max-age=31536000',
      'cross-origin-resource-policy': 'same-origin',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': 'no-store',
      'content-type': /^application\/json/,
    },
    `${what}: security headers`,
  );
  t.equal(res.headers['x-powered-by'], undefined, `${what}: no X-Powered-By`);
  t.equal(res.headers['access-control-allow-origin'], undefined, `${what}: no CORS unless configured`);
}

t.test('a JSON answer carries the security headers for an API', async (t) => {
  assertApiHeaders(t, await call(app, 'GET', '/api/v1/products'), 'GET /products');
});

t.test('so does every error: 400, 401, 404, 415, 429 and a framework error', async (t) => {
  const json = { 'content-type': 'application/json' };
  const cases: [string, Promise<Call>][] = [
    ['400', call(app, 'GET', '/api/v1/products?limit=0')],
    ['401', call(app, 'GET', '/api/v1/users/me')],
    ['404', call(app, 'GET', '/api/v1/nowhere')],
    ['415', call(app, 'POST', '/api/v1/auth/login', { body: 'x', headers: { 'content-type': 'text/plain' } })],
    ['400 INVALID_JSON', call(app, 'POST', '/api/v1/auth/login', { body: '{', headers: json })],
  ];
  for (const [what, res] of cases) assertApiHeaders(t, await res, what);
  // LOGIN_RATE_LIMIT_MAX=1 there: the second attempt is refused.
  const loginAttempt = () =>
    call(withCors, 'POST', '/api/v1/auth/login', {
      ip: '10.66.0.1',
      body: { username: 'limited', password: 'x' },
      headers: { origin: SHOP },
    });
  t.equal((await loginAttempt()).status, 401);
  const refused = await loginAttempt();
  assertError(t, refused, 429, 'RATE_LIMITED');
  t.match(refused.headers, { 'content-security-policy': API_CSP, 'x-content-type-options': 'nosniff' }, '429');
  t.equal(refused.headers['access-control-allow-origin'], SHOP, 'a browser client can read its 429');
  const bad = await call(app, 'GET', '/api/v1/products/%E0%A4%A');
  assertError(t, bad, 400, 'BAD_REQUEST');
  t.ok(bad.headers['x-request-id'], 'a framework error carries its request id');
  t.equal(bad.headers['x-content-type-options'], 'nosniff');
});

t.test('/docs still serves Swagger UI, under a CSP of its own that allows what it loads', async (t) => {
  for (const url of ['/docs', '/docs/']) {
    const page = await app.inject({ method: 'GET', url });
    t.equal(page.statusCode, 200, url);
    t.match(page.headers['content-type'], /^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    t.match(csp, /script-src 'self'/, `${url}: its scripts may load`);
    t.match(csp, /style-src 'self'/, `${url}: its styles may load`);
    t.match(csp, /frame-ancestors 'none'/, `${url}: never framed`);
    t.notMatch(csp, /unsafe-inline|unsafe-eval|upgrade-insecure-requests|https:/, `${url}: nothing looser`);
    // Everything the page loads is a file of this origin: no inline script or style for the CSP to block.
    const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    t.ok(scripts.length >= 3, 'the UI scripts');
    for (const [, attributes, inline] of scripts) {
      t.match(attributes, /src="(\.|\/docs)\/static\/[\w.-]+\.js"/, 'a script from /docs/static');
      t.equal(inline!.trim(), '', 'no inline code');
    }
    t.notMatch(page.body, /<style|style="|https?:\/\//, 'no inline style, nothing from elsewhere');
  }
  const bundle = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
  t.equal(bundle.statusCode, 200);
  t.match(bundle.headers['content-type'], /javascript/);
  const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
  t.match(initializer.body, /"validatorUrl":null/, 'no badge from validator.swagger.io');
  const document = await app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(document.statusCode, 200);
  t.equal(document.json().openapi, '3.1.0');
});

t.test('CORS is off by default: no allow header for any origin, and no preflight route', async (t) => {
  const res = await call(app, 'GET', '/api/v1/products', { headers: { origin: SHOP } });
  t.equal(res.status, 200);
  t.equal(res.headers['access-control-allow-origin'], undefined);
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/v1/products',
    headers: { origin: SHOP, 'access-control-request-method': 'POST' },
  });
  t.equal(preflight.statusCode, 404);
  t.equal(preflight.json().code, 'NOT_FOUND');
  t.equal(preflight.headers['access-control-allow-origin'], undefined);
});

t.test('CORS_ORIGINS: a listed origin gets a preflight and its requests through', async (t) => {
  const preflight = await withCors.inject({
    method: 'OPTIONS',
    url: '/api/v1/purchases',
    headers: {
      origin: SHOP,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,idempotency-key',
    },
  });
  t.equal(preflight.statusCode, 204);
  t.match(preflight.headers, {
    'access-control-allow-origin': SHOP,
    'access-control-allow-methods': 'GET, POST, PATCH, DELETE',
    'access-control-allow-headers': 'authorization, content-type, idempotency-key, x-request-id',
    'access-control-max-age': '600',
    vary: /Origin/,
  });
  t.equal(preflight.headers['access-control-allow-credentials'], undefined, 'bearer tokens: no credentials');

  const user = await login(withCors, 'cors-user');
  for (const origin of [SHOP, DEV]) {
    const res = await call(withCors, 'GET', '/api/v1/users/me', { auth: user.auth, headers: { origin } });
    t.equal(res.status, 200);
    t.equal(res.headers['access-control-allow-origin'], origin, `${origin} is allowed`);
    t.match(res.headers['access-control-expose-headers'], /x-request-id.*retry-after.*idempotent-replayed/);
    t.match(res.headers.vary, /Origin/, 'caches keep one answer per origin');
    t.match(res.headers, { 'content-security-policy': API_CSP }, 'the security headers stay');
  }
  const error = await call(withCors, 'GET', '/api/v1/users/me', { headers: { origin: SHOP } });
  assertError(t, error, 401, 'UNAUTHORIZED');
  t.equal(error.headers['access-control-allow-origin'], SHOP, 'errors too: the client can read them');
});

t.test('CORS_ORIGINS: any other origin, however close, gets no allow header', async (t) => {
  for (const origin of [
    'https://evil.example',
    'https://shop.example.com.evil.example',
    'http://shop.example.com',
    'https://shop.example.com:8443',
    'null',
  ]) {
    const res = await call(withCors, 'GET', '/api/v1/products', { headers: { origin } });
    t.equal(res.status, 200);
    t.equal(res.headers['access-control-allow-origin'], undefined, `${origin}: not allowed`);
    const preflight = await withCors.inject({
      method: 'OPTIONS',
      url: '/api/v1/products',
      headers: { origin, 'access-control-request-method': 'DELETE' },
    });
    t.equal(preflight.headers['access-control-allow-origin'], undefined, `${origin}: no preflight either`);
  }
});
