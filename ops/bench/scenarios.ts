import { randomBytes } from 'node:crypto';
import { jsonRequest } from '../../stack/helpers/http.js';
import type { DeploymentView } from '../deployment/deployment.js';
import { directUrl } from './target.js';
import { getAny, logins, purchases } from './lua.js';
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
}

const productPaths = (data: BenchData) => data.productIds.map((id) => `/api/v1/products/${id}`);

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
    name: 'login',
    target: 'nginx',
    lua: (data) => logins(data.accounts),
    // 503 BUSY: sign-ins beyond what the bcrypt threads hash within BCRYPT_MAX_WAIT_MS are shed at once.
    expected: ['200', '503'],
    ceiling: 'ceiling-http',
    what: 'the bcrypt path (BCRYPT_COST of the stack); past its capacity, 503 BUSY at once',
  },
];

/** Scenarios of several runs each (mixed.ts, scale.ts), run after the others; scale last, as it grows the store. */
export const MIXED = 'mixed';
export const SCALE = 'scale';

/** Every scenario by name, in the order they run (the Redis ceiling aside). */
export const SCENARIOS: { name: string }[] = [...WRK_SCENARIOS, { name: MIXED }, { name: SCALE }];

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
  const product = (name: string, stock: number) =>
    call('POST', '/api/v1/products', { name, priceCents: 1000, stock }, admin.token).then((p) => p.id as string);
  log(`seeding ${PRODUCTS} products and ${BUYERS} buyers`);
  const productIds: string[] = [];
  for (let i = 0; i < PRODUCTS; i++) productIds.push(await product(`Bench ${runId} #${i + 1}`, STOCK));
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
  const hot = { id: await product(`Bench ${runId} hot`, hotStock), stock: hotStock };
  return { runId, productIds, userIds, tokens, accounts: accounts.slice(0, ACCOUNTS), hot } satisfies BenchData;
}
