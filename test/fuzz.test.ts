import fc from 'fast-check';
import t, { type Test } from 'tap';
import {
  contractErrorProblems,
  describeOutcome,
  rawExchange,
  requestBytes,
  type Address,
  type RawOutcome,
} from './helpers/fuzz-http.js';
import { ROUTES, requestFor, strayRequest, type FuzzFixtures, type FuzzRequest } from './helpers/fuzz-requests.js';
import { DataWatch } from './helpers/fuzz-redis.js';
import { call, STACK_ADMIN, startTestStack, testStackConfig } from './helpers/stack.js';

/**
 * Hostile input, generated (fast-check): every route, through NGINX and straight to an API instance, with valid
 * and invalid methods, ids, query strings, headers and bodies. Whatever is sent: an answer (never a dropped
 * connection), never a 5xx, every refusal in the contract's error shape with a stable code, and a refusal
 * changes nothing in Redis. FUZZ_RUNS is the number of requests per target (default 1000); FUZZ_SEED replays one.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

// A short cancel window, so that an owner's cancellation is both served (a fresh purchase) and refused (409).
const CANCEL_WINDOW_SECONDS = 10;
const config = await testStackConfig(t, {
  apiEnv: { LOGIN_RATE_LIMIT_MAX: '1000000', CANCEL_WINDOW_SECONDS: String(CANCEL_WINDOW_SECONDS) },
});
const stack = await startTestStack(t, config);
const base = stack.publicUrl;
const watch = await DataWatch.start(stack, config.keyPrefix);
t.teardown(() => watch.close());

let serial = 0;
const unique = (what: string) => `fuzz-${what}-${process.pid}-${++serial}`;

async function ok<T>(what: string, answer: Promise<{ status: number; body: unknown }>): Promise<T> {
  const res = await answer;
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}

const root = await ok<{ token: string }>(
  'admin login',
  call(base, 'POST', '/api/v1/auth/login', { body: STACK_ADMIN }),
);

/** A new user, signed in; an admin when asked (promoted by the stack's admin, whose token is never fuzzed). */
async function newUser(role: 'customer' | 'admin'): Promise<{ id: string; token: string }> {
  const credentials = { username: unique(role), password: 'fuzz-password-1' };
  const user = await ok<{ id: string }>('register', call(base, 'POST', '/api/v1/auth/register', { body: credentials }));
  if (role === 'admin') {
    await ok('promote', call(base, 'PATCH', `/api/v1/users/${user.id}`, { token: root.token, body: { role } }));
  }
  const { token } = await ok<{ token: string }>(
    'login',
    call(base, 'POST', '/api/v1/auth/login', { body: credentials }),
  );
  return { id: user.id, token };
}

async function newProduct(stock = 1_000_000): Promise<string> {
  const body = { name: unique('product'), priceCents: 1999, stock };
  return (await ok<{ id: string }>('product', call(base, 'POST', '/api/v1/products', { token: root.token, body }))).id;
}

async function newPurchase(buyer: { token: string }, productId: string): Promise<string> {
  const res = call(base, 'POST', '/api/v1/purchases', { token: buyer.token, body: { productId, quantity: 1 } });
  return (await ok<{ id: string }>('purchase', res)).id;
}

const customer = await newUser('customer');
const other = await newUser('customer');
const productId = await newProduct();

/** nextCursor of two real pages: the plain catalog's and a search's (each refused with the other's query). */
async function catalogCursors(): Promise<string[]> {
  await newProduct(); // a second page for both
  const cursors: string[] = [];
  for (const query of ['limit=1', 'limit=1&sort=price&inStock=true']) {
    const page = await ok<{ nextCursor: string | null }>(
      'catalog page',
      call(base, 'GET', `/api/v1/products?${query}`),
    );
    if (page.nextCursor) cursors.push(page.nextCursor);
  }
  return cursors;
}

let fixtures: FuzzFixtures = {
  customer,
  other,
  admin: await newUser('admin'),
  productId,
  secondProductId: await newProduct(),
  soldOutProductId: await newProduct(0),
  purchaseId: await newPurchase(customer, productId),
  otherPurchaseId: await newPurchase(other, productId),
  cursors: await catalogCursors(),
};
if (fixtures.cursors.length !== 2) throw new Error(`catalog cursors: ${JSON.stringify(fixtures.cursors)}`);
await watch.changes(); // the fixtures are the starting point, not a change

/**
 * After a request that changed something, the fixtures are checked and replaced where it undid them (a token
 * logged out, a user deleted, renamed or demoted, a product deleted, sold out or restocked, a purchase
 * cancelled), so later requests still reach past authentication and lookups.
 */
async function repairFixtures(): Promise<void> {
  const me = async (user: { token: string }) => call(base, 'GET', '/api/v1/users/me', { token: user.token });
  const fx = { ...fixtures };
  for (const [name, role] of [
    ['customer', 'customer'],
    ['other', 'customer'],
    ['admin', 'admin'],
  ] as const) {
    const res = await me(fx[name]);
    if (res.status !== 200 || (res.body as { role?: string }).role !== role) fx[name] = await newUser(role);
  }
  const stock = async (id: string) => {
    const product = await call(base, 'GET', `/api/v1/products/${id}`);
    return product.status === 200 ? (product.body as { stock: number }).stock : undefined;
  };
  if (((await stock(fx.productId)) ?? 0) < 10_000) fx.productId = await newProduct();
  if (((await stock(fx.secondProductId)) ?? 0) < 10_000) fx.secondProductId = await newProduct();
  if ((await stock(fx.soldOutProductId)) !== 0) fx.soldOutProductId = await newProduct(0);
  // A cancelled purchase is replaced too (a cancellation of it can only be a repeat); it stays as the repeat's target.
  const status = async (id: string, owner: { token: string }) => {
    const res = await call(base, 'GET', `/api/v1/purchases/${id}`, { token: owner.token });
    return res.status === 200 ? (res.body as { status?: string }).status : undefined;
  };
  for (const [name, owner] of [
    ['purchaseId', 'customer'],
    ['otherPurchaseId', 'other'],
  ] as const) {
    const now = await status(fx[name], fx[owner]);
    if (now === 'completed') continue;
    if (now === 'cancelled') fx.cancelledPurchaseId = fx[name];
    fx[name] = await newPurchase(fx[owner], fx.productId);
  }
  fixtures = fx;
  await watch.changes(); // the repairs are not the fuzzed request's changes
}

/** What was answered, per target: status and code → count. */
type Tally = Map<string, number>;

function show(req: FuzzRequest): string {
  const body = req.body === undefined ? '' : ` body=${JSON.stringify(req.body.slice(0, 300))}`;
  return `${req.method} ${JSON.stringify(req.target.slice(0, 300))} headers=${JSON.stringify(req.headers)}${body}`;
}

/**
 * A raw line feed in the target ends the request line before any version: HTTP/0.9 to NGINX, whose answer
 * can only be a body. NGINX refuses it (nginx/nginx.conf) with the 400's JSON body, then closes.
 */
function isHttp09Refusal(req: FuzzRequest, outcome: RawOutcome): boolean {
  if (outcome.kind !== 'closed' || !req.target.includes('\n')) return false;
  try {
    const body = JSON.parse(outcome.received) as Record<string, unknown>;
    return body.statusCode === 400 && body.code === 'BAD_REQUEST' && Object.keys(body).length === 4;
  } catch {
    return false;
  }
}

/** Sends one generated request and throws, with a reproducer, if any promise is broken. */
async function check(to: Address, req: FuzzRequest, tally: Tally): Promise<void> {
  const head = req.method === 'HEAD';
  const outcome = await rawExchange(to, requestBytes(req), { timeoutMs: 15_000, head });
  if (outcome.kind !== 'response') {
    if (!isHttp09Refusal(req, outcome)) throw new Error(`${describeOutcome(outcome)}\n  for ${show(req)}`);
    tally.set('400 BAD_REQUEST (HTTP/0.9)', (tally.get('400 BAD_REQUEST (HTTP/0.9)') ?? 0) + 1);
    const changes = await watch.changes();
    if (changes.length > 0) throw new Error(`refused, yet Redis changed: ${changes.join('; ')}\n  for ${show(req)}`);
    return;
  }
  const res = outcome.response;
  const code = (res.json as { code?: unknown } | undefined)?.code;
  const answer = `${res.status} ${typeof code === 'string' ? code : ''}`.trim();
  tally.set(answer, (tally.get(answer) ?? 0) + 1);
  const problems: string[] = [];
  if (res.status >= 500) problems.push('a 5xx');
  if (res.status >= 400) {
    if (head) {
      if (!/^application\/json\b/.test(res.headers['content-type'] ?? '')) problems.push('HEAD error not JSON');
    } else problems.push(...contractErrorProblems(res));
  } else if (res.status !== 204 && !head && res.json === undefined) problems.push('a success without a JSON body');
  const changes = await watch.changes();
  if (res.status >= 400 && changes.length > 0) problems.push(`refused, yet Redis changed: ${changes.join('; ')}`);
  if (problems.length > 0) {
    throw new Error(`${problems.join(', ')}\n  answer: ${describeOutcome(outcome)}\n  for ${show(req)}`);
  }
  if (res.status < 300 && req.method !== 'GET' && req.method !== 'HEAD') await repairFixtures();
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** One property per route (and one for paths no route has), its share of the runs, against one target. */
async function fuzz(t: Test, to: Address) {
  const tally: Tally = new Map();
  const properties: [string, fc.Arbitrary<FuzzRequest>][] = [
    ...ROUTES.map(
      (route) =>
        [`${route.method} ${route.path}`, requestFor(route, () => fixtures)] as [string, fc.Arbitrary<FuzzRequest>],
    ),
    ['paths no route has', strayRequest()],
  ];
  const numRuns = Math.max(1, Math.ceil(RUNS / properties.length));
  for (const [name, requests] of properties) {
    // No shrinking: the first failure, as sent, is the reproducer (with its seed).
    const property = fc.asyncProperty(requests, (req) => check(to, req, tally));
    const details = await fc.check(property, { numRuns, seed: SEED, endOnFailure: true });
    if (!details.failed) t.pass(`${name}: ${numRuns} requests`);
    else t.fail(`${name}: ${errorText(details.errorInstance)}\n  replay with FUZZ_SEED=${details.seed}`);
  }
  const answers = [...tally.entries()].sort(([a], [b]) => a.localeCompare(b));
  t.comment(`answers: ${answers.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  const total = answers.reduce((sum, [, n]) => sum + n, 0);
  t.ok(total >= properties.length * numRuns, `${total} requests answered`);
  // The generated requests reach past validation and authentication, not only the parsers' refusals.
  t.ok(
    answers.some(([k]) => /^20[01]/.test(k)),
    'some were served (200/201)',
  );
  t.ok(
    answers.some(([k]) => /^(401|403)/.test(k)),
    'some were refused by authorization',
  );
  t.ok(
    answers.some(([k]) => k === '400 VALIDATION_ERROR' || k === '400 INVALID_JSON'),
    'some were refused by validation',
  );
}

t.test(`${RUNS} generated requests through NGINX`, async (t) => {
  await fuzz(t, { host: config.host, port: config.httpPort });
});

t.test(`${RUNS} generated requests straight to an API instance`, async (t) => {
  await fuzz(t, { host: config.host, port: config.apiPorts[0] as number });
});
