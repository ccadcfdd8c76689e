import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { jsonRequest } from '../../stack/helpers/http.js';
import type { DeploymentView } from '../deployment/deployment.js';
import { directUrl } from './target.js';
import { baskets, cancels, getAny, logins, purchases, purchasesRecorded } from './lua.js';
import { runWrk, type WrkResult } from './wrk.js';

/** What the scenarios need in the store: products, buyers with tokens, login accounts, one hot product. */
export interface BenchData {
  runId: string;
  productIds: string[];
  /** The buyers' ids, in the order of their tokens. */
  userIds: string[];
  tokens: string[];
  accounts: { username: string; password: string }[];
  hot: { id: string; stock: number };
  /** cancel: the file of the purchases its preparation made (`<purchase id> <buyer id>` lines). */
  cancellable?: string;
}

/** One benchmark: where wrk sends it, its request() Lua, the statuses it expects, the ceiling it is judged by. */
export interface Scenario {
  name: string;
  /** Against NGINX (public) or one instance directly (what NGINX costs). */
  target: 'nginx' | 'direct';
  /** The path for a plain GET, or Lua defining request(). */
  lua: (data: BenchData) => string;
  /** Answers that are the scenario working, not failing (a hot product's 409 OUT_OF_STOCK). */
  expected: string[];
  /** The scenario whose req/s this one's is a ratio of; none for a ceiling itself. */
  ceiling?: string;
  what: string;
  /**
   * Runs before the scenario's window, outside what it measures (commands per request and profiles included):
   * the data its requests need that the shared seed does not give.
   */
  prepare?: (
    deployment: DeploymentView,
    data: BenchData,
    run: MeasureRun,
    log: (msg: string) => void,
  ) => Promise<BenchData>;
}

const productPaths = (data: BenchData) => data.productIds.map((id) => `/api/v1/products/${id}`);

/** One of these words is in every seeded and bulk-loaded product's name, in turn: what the search's q asks for. */
export const NAME_WORDS = ['kettle', 'lamp', 'chair', 'table', 'mug', 'clock', 'vase', 'stool', 'shelf', 'rug'];
/** The i-th product's name word. */
export const nameWord = (i: number) => NAME_WORDS[i % NAME_WORDS.length]!;
/** Varied (100 to 99,999 cents), but a function of the index: a loaded purchase finds its price without a lookup. */
export const benchPrice = (i: number) => 100 + ((i * 7919) % 99_900);

/** q: one name word, a tenth of the catalog at any size (newest first, the default order). */
const SEARCH_PATHS = NAME_WORDS.map((word) => `/api/v1/products?q=${word}&limit=20`);
/** In stock, a fifth of the price range, cheapest first: the price index drives, each product's stock checked. */
const FILTERED_PATHS = [0, 1, 2, 3].map(
  (i) =>
    `/api/v1/products?inStock=true&minPriceCents=${10_000 + i * 20_000}&maxPriceCents=${30_000 + i * 20_000}` +
    '&sort=price&limit=20',
);
const BASKET_SIZE = 3;

/**
 * The trivial route of ceiling-http, added to the benchmark stack's NGINX only: each instance's liveness (no
 * Redis) through the same upstream, keepalive and access log as every API request.
 */
export const BENCH_NGINX_LOCATIONS = `    location = /bench/live {
      proxy_pass http://api/health/live;
    }`;

/** The scenarios that are one wrk run each. */
export const WRK_SCENARIOS: Scenario[] = [
  {
    name: 'ceiling-http',
    target: 'nginx',
    lua: () => getAny(['/bench/live']),
    expected: ['200'],
    what: 'a trivial route of the same instances behind the same NGINX: what the framework and NGINX allow',
  },
  {
    name: 'ceiling-nginx',
    target: 'nginx',
    lua: () => getAny(['/health']),
    expected: ['200'],
    what: 'NGINX answering by itself: the most any request through it can do',
  },
  {
    name: 'ceiling-direct',
    target: 'direct',
    lua: (data) => getAny(productPaths(data)),
    expected: ['200'],
    what: 'catalog-get against one instance, without NGINX: what NGINX costs',
  },
  {
    name: 'catalog-get',
    target: 'nginx',
    lua: (data) => getAny(productPaths(data)),
    expected: ['200'],
    ceiling: 'ceiling-http',
    what: 'one product by id, ids spread over the catalog',
  },
  {
    name: 'catalog-page',
    target: 'nginx',
    lua: () => getAny(['/api/v1/products?limit=20']),
    expected: ['200'],
    ceiling: 'ceiling-http',
    what: 'the first page of 20 products',
  },
  {
    name: 'search',
    target: 'nginx',
    lua: () => getAny(SEARCH_PATHS),
    expected: ['200'],
    ceiling: 'ceiling-http',
    what: `GET /products?q= one of ${NAME_WORDS.length} name words (a tenth of the catalog each), a page of 20`,
  },
  {
    name: 'search-filtered',
    target: 'nginx',
    lua: () => getAny(FILTERED_PATHS),
    expected: ['200'],
    ceiling: 'ceiling-http',
    what: 'GET /products?inStock=true, a price range (a fifth of the catalog), sort=price, a page of 20',
  },
  {
    name: 'purchase',
    target: 'nginx',
    lua: (data) => purchases(data.runId, data.tokens, data.productIds),
    expected: ['201'],
    ceiling: 'ceiling-http',
    what: 'one unit, buyers and products spread, a fresh Idempotency-Key each',
  },
  {
    name: 'purchase-hot',
    target: 'nginx',
    lua: (data) => purchases(`${data.runId}-hot`, data.tokens, [data.hot.id]),
    expected: ['201', '409'],
    ceiling: 'ceiling-http',
    what: 'every buyer on one product until it sells out (409 OUT_OF_STOCK after)',
  },
  {
    name: 'purchase-basket',
    target: 'nginx',
    lua: (data) => baskets(`${data.runId}-basket`, data.tokens, data.productIds, BASKET_SIZE),
    expected: ['201'],
    ceiling: 'ceiling-http',
    what: `a basket of ${BASKET_SIZE} products (one unit each, spread), buyers spread, a fresh Idempotency-Key each`,
  },
  {
    name: 'cancel',
    target: 'nginx',
    // Purchases made beforehand, each cancelled once by its buyer: the window holds cancellations only (a script
    // that bought then cancelled would measure both, halved). See prepareCancels for how many are made.
    prepare: prepareCancels,
    lua: (data) => cancels(data.userIds, data.tokens, data.cancellable ?? ''),
    expected: ['200'],
    ceiling: 'ceiling-http',
    what: 'POST /purchases/:id/cancel by the buyer, each a purchase of one unit made before the window',
  },
  {
    name: 'login',
    target: 'nginx',
    lua: (data) => logins(data.accounts),
    // 503 BUSY: sign-ins beyond what the bcrypt threads hash within BCRYPT_MAX_WAIT_MS are shed at once.
    expected: ['200', '503'],
    ceiling: 'ceiling-http',
    what: 'the bcrypt path (BCRYPT_COST of the stack); past its capacity, 503 BUSY at once',
  },
];

/**
 * cancel's purchases, made by wrk (one unit each, buyers and products spread) for twice the window: a cancellation
 * costs about what a purchase does (one WATCH/MULTI/EXEC and a WAIT each), so that covers the window with room
 * to spare. Should it not, the requests past the last one answer 404, counted as unexpected.
 */
async function prepareCancels(
  deployment: DeploymentView,
  data: BenchData,
  run: MeasureRun,
  log: (msg: string) => void,
): Promise<BenchData> {
  const name = `${run.runName ?? 'cancel'}-purchases`;
  const file = path.join(run.dir, `${name}.txt`);
  const wrk = await runWrk({
    url: deployment.publicUrl,
    requestLua: purchasesRecorded(`${data.runId}-${name}`, data.tokens, data.productIds, file),
    connections: run.connections,
    durationSeconds: 2 * run.durationSeconds,
    dir: run.dir,
    name,
  });
  const recorded = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  log(
    `${run.runName ?? 'cancel'} · prepared ${recorded} purchases to cancel ` +
      `(${Math.round(wrk.rps)} purchases/s, ${wrk.errors} errors)`,
  );
  if (recorded === 0) throw new Error(`cancel: no purchase was made to cancel (${JSON.stringify(wrk.statuses)})`);
  return { ...data, cancellable: file };
}

/** Scenarios of several runs each (mixed.ts, scale.ts), run after the others; scale last, as it grows the store. */
export const MIXED = 'mixed';
export const SCALE = 'scale';

/** Every scenario by name, in the order they run (the Redis ceiling aside). */
export const SCENARIOS: { name: string }[] = [...WRK_SCENARIOS, { name: MIXED }, { name: 'watchers' }, { name: SCALE }];

export function wrkScenario(name: string): Scenario {
  const scenario = WRK_SCENARIOS.find((s) => s.name === name);
  if (!scenario) throw new Error(`no scenario ${name}`);
  return scenario;
}

/** One wrk run's figures, with the answers the scenario did not expect counted. */
export interface Measured extends WrkResult {
  unexpected: number;
}

export interface MeasureRun {
  connections: number;
  durationSeconds: number;
  /** Where wrk's script is written. */
  dir: string;
  /** The script's name, when a scenario runs more than once. */
  runName?: string;
}

/** Runs one scenario under wrk against the deployment with the given data. */
export async function measure(scenario: Scenario, deployment: DeploymentView, data: BenchData, run: MeasureRun) {
  const wrk = await runWrk({
    url: await scenarioUrl(scenario, deployment),
    requestLua: scenario.lua(data),
    connections: run.connections,
    durationSeconds: run.durationSeconds,
    dir: run.dir,
    name: run.runName ?? scenario.name,
  });
  return { ...wrk, unexpected: unexpectedAnswers(wrk.statuses, scenario.expected) } satisfies Measured;
}

/** Where wrk sends a scenario: NGINX's public URL, or the first instance's own. */
export const scenarioUrl = async (scenario: Scenario, deployment: DeploymentView) =>
  scenario.target === 'nginx' ? deployment.publicUrl : directUrl(deployment);

export const unexpectedAnswers = (statuses: Record<string, number>, expected: string[]) =>
  Object.entries(statuses)
    .filter(([status]) => !expected.includes(status))
    .reduce((sum, [, n]) => sum + n, 0);

const PRODUCTS = 200;
const BUYERS = 50;
const ACCOUNTS = 10;
// Plenty for a run at thousands of purchases a second: the spread scenario must never sell out.
export const STOCK = 10_000_000;

/** Through the API, as the admin: the catalog, the buyers (logged in), the hot product. */
export async function seedBenchData(deployment: DeploymentView, hotStock: number, log: (msg: string) => void) {
  const base = deployment.publicUrl;
  const call = async (method: string, url: string, body: unknown, token?: string) => {
    const res = await jsonRequest(base, method, url, { body, token, timeoutMs: 10_000 });
    if (res.status >= 300) throw new Error(`seeding: ${method} ${url} answered ${res.status} ${res.text}`);
    return res.body;
  };
  const runId = randomBytes(4).toString('hex');
  const admin = await call('POST', '/api/v1/auth/login', deployment.admin);
  const product = (name: string, stock: number, priceCents: number) =>
    call('POST', '/api/v1/products', { name, priceCents, stock }, admin.token).then((p) => p.id as string);
  log(`seeding ${PRODUCTS} products and ${BUYERS} buyers`);
  const productIds: string[] = [];
  for (let i = 0; i < PRODUCTS; i++) {
    productIds.push(await product(`Bench ${runId} ${nameWord(i)} #${i + 1}`, STOCK, benchPrice(i)));
  }
  const accounts = Array.from({ length: BUYERS }, (_, i) => ({
    username: `bench-${runId}-${i + 1}`,
    password: `bench-${runId}-password`,
  }));
  const userIds: string[] = [];
  const tokens: string[] = [];
  for (const account of accounts) {
    userIds.push((await call('POST', '/api/v1/auth/register', account)).id as string);
    tokens.push((await call('POST', '/api/v1/auth/login', account)).token as string);
  }
  const hot = { id: await product(`Bench ${runId} hot`, hotStock, 1000), stock: hotStock };
  return { runId, productIds, userIds, tokens, accounts: accounts.slice(0, ACCOUNTS), hot } satisfies BenchData;
}
