import { jsonRequest } from '../../stack/helpers/http.js';
import type { DeploymentView } from '../deployment/deployment.js';
import { renderMixed, runMixed } from './mixed.js';
import { WATCHERS, renderWatchers, runWatchers } from './watchers.js';
import { Observer, observedCells, observedLog, renderBackground } from './observe.js';
import { MIXED, SCALE, WRK_SCENARIOS, measure, scenarioUrl, seedBenchData, type BenchData } from './scenarios.js';
import { REDIS_CEILING, REDIS_CEILING_WHAT, redisCeiling } from './redis-ceiling.js';
import { SCALE_DEFAULT_SIZE, renderScale, runScale } from './scale.js';
import type { ScenarioResult } from './results.js';
import { sumCounter } from './target.js';
import type { WrkResult } from './wrk.js';

export type { ScenarioResult } from './results.js';

export interface BenchOptions {
  scenarios: string[];
  durationSeconds: number;
  connections: number;
  /** Units of the hot product: sold out early in a run, so the rest of it measures refusals. */
  hotStock: number;
  /** Products and purchases the scale scenario bulk-loads (1,000,000 each unless given). */
  scaleProducts?: number;
  scalePurchases?: number;
  /** Wrapped around each scenario's load and nothing else (--profile starts and stops CPU profiles with it). */
  aroundScenario?: <T>(name: string, run: () => Promise<T>) => Promise<T>;
}

export interface BenchReport {
  machine: { cpus: number; node: string };
  connections: number;
  durationSeconds: number;
  /** CLIENT_CACHE as the bench set it on the API instances (--client-cache); absent: the service's default. */
  clientCache?: 'on' | 'off';
  results: ScenarioResult[];
}

/** Runs each chosen scenario (ceilings first, so every ratio has its ceiling) against the deployment. */
export async function runBench(
  deployment: DeploymentView,
  options: BenchOptions,
  dir: string,
  log: (msg: string) => void,
): Promise<ScenarioResult[]> {
  const chosen = WRK_SCENARIOS.filter((s) => options.scenarios.includes(s.name));
  const needed = new Set(chosen.flatMap((s) => (s.ceiling ? [s.ceiling, s.name] : [s.name])));
  const ordered = WRK_SCENARIOS.filter((s) => needed.has(s.name)).sort(
    (a, b) => Number(!!a.ceiling) - Number(!!b.ceiling),
  );
  const around = options.aroundScenario ?? ((_name, run) => run());
  const data: BenchData = await seedBenchData(deployment, options.hotStock, log);
  const observer = await Observer.connect(deployment);
  try {
    return await runScenarios(deployment, options, dir, log, { ordered, around, data, observer });
  } finally {
    observer.close();
  }
}

interface Prepared {
  ordered: typeof WRK_SCENARIOS;
  around: NonNullable<BenchOptions['aroundScenario']>;
  data: BenchData;
  observer: Observer;
}

async function runScenarios(
  deployment: DeploymentView,
  options: BenchOptions,
  dir: string,
  log: (msg: string) => void,
  { ordered, around, data, observer }: Prepared,
): Promise<ScenarioResult[]> {
  const results = new Map<string, ScenarioResult>();
  if (options.scenarios.includes(REDIS_CEILING)) {
    log(`${REDIS_CEILING}: about ${options.durationSeconds} s, ${options.connections} connections`);
    const firstProduct = data.productIds[0] ?? '';
    const redis = await around(REDIS_CEILING, () =>
      redisCeiling(deployment, firstProduct, options.connections, options.durationSeconds),
    );
    const result = { ...redis, name: REDIS_CEILING, what: REDIS_CEILING_WHAT, ceiling: undefined, ratio: undefined };
    results.set(REDIS_CEILING, { ...result, unexpected: 0 });
    log(`  ${Math.round(redis.rps)} commands/s, p99 ${redis.p99Ms.toFixed(1)} ms`);
  }
  const run = { connections: options.connections, durationSeconds: options.durationSeconds, dir };
  for (const scenario of ordered) {
    const url = await scenarioUrl(scenario, deployment);
    log(`${scenario.name}: ${options.durationSeconds} s, ${options.connections} connections → ${url}`);
    // Outside the window: what it needs made beforehand is not what it measures.
    const scenarioData = scenario.prepare ? await scenario.prepare(deployment, data, run, log) : data;
    const retriesBefore = scenario.name === 'purchase-hot' ? await sumCounter(deployment, WATCH_RETRIES) : 0;
    const { value: measured, ...observed } = await observer.around(
      () => around(scenario.name, () => measure(scenario, deployment, scenarioData, run)),
      (m) => m.requests,
    );
    const ceiling = scenario.ceiling ? results.get(scenario.ceiling) : undefined;
    const result: ScenarioResult = {
      ...measured,
      name: scenario.name,
      what: scenario.what,
      ceiling: scenario.ceiling,
      ratio: ceiling ? measured.rps / ceiling.rps : undefined,
      ...observed,
    };
    if (scenario.name === 'purchase-hot') result.hot = await hotOutcome(deployment, data, measured, retriesBefore);
    results.set(scenario.name, result);
    log(
      `  ${Math.round(measured.rps)} req/s, p99 ${measured.p99Ms.toFixed(1)} ms, ${measured.errors} errors, ` +
        `${measured.unexpected} unexpected; ${observedLog(observed)}`,
    );
  }
  if (options.scenarios.includes(MIXED)) {
    // Per request of its three runs: the reads alone, the reads under the storm, the logins.
    const { value: mixed, ...observed } = await observer.around(
      () => around(MIXED, () => runMixed(deployment, data, run, log)),
      (m) => m.requests + (m.mixed ? m.mixed.alone.requests + m.mixed.logins.requests : 0),
    );
    results.set(MIXED, { ...mixed, ...observed });
  }
  if (options.scenarios.includes(WATCHERS)) {
    // Per purchase of its two runs: alone, and beside the streams.
    const { value: watchers, ...observed } = await observer.around(
      () => around(WATCHERS, () => runWatchers(deployment, data, run, log)),
      (m) => m.requests + (m.watchers ? m.watchers.alone.requests : 0),
    );
    results.set(WATCHERS, { ...watchers, ...observed });
  }
  // Last: what it loads stays in the store.
  if (options.scenarios.includes(SCALE)) {
    const products = options.scaleProducts ?? SCALE_DEFAULT_SIZE;
    const purchases = options.scalePurchases ?? SCALE_DEFAULT_SIZE;
    results.set(SCALE, await around(SCALE, () => runScale(deployment, data, { ...run, products, purchases }, log)));
  }
  return [...results.values()];
}

const WATCH_RETRIES = 'evergreen_purchase_watch_retries_total';

async function hotOutcome(deployment: DeploymentView, data: BenchData, wrk: WrkResult, retriesBefore: number) {
  const res = await jsonRequest(deployment.publicUrl, 'GET', `/api/v1/products/${data.hot.id}`, { timeoutMs: 5000 });
  return {
    stockAfter: Number(res.body.stock),
    sold: wrk.statuses['201'] ?? 0,
    initial: data.hot.stock,
    watchRetries: (await sumCounter(deployment, WATCH_RETRIES)) - retriesBefore,
  };
}

const ms = (value: number) => value.toFixed(1);

/**
 * The markdown table: req/s, p50, p99, errors, unexpected answers, the share of the ceiling, the answers, wrk's
 * CPU, then Redis commands per request (master + replicas), the top ones, and the client cache's hit ratio.
 */
export function renderBench(report: BenchReport): string {
  const rows = report.results.map((r) => {
    const ratio = r.ratio === undefined ? 'ceiling' : `${Math.round(r.ratio * 100)}% of ${r.ceiling}`;
    const byWrk = Object.keys(r.statuses).length > 0; // ceiling-redis is redis-benchmark's
    const cpu = byWrk ? `${Math.round((r.generatorCpuSeconds / r.requests) * 1e6)} µs` : '-';
    const statuses = Object.entries(r.statuses)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    const figures = [Math.round(r.rps), ms(r.p50Ms), ms(r.p99Ms), r.errors, r.unexpected];
    const cells = [r.name, ...figures, ratio, statuses, cpu, ...observedCells(r)];
    return `| ${cells.join(' | ')} |`;
  });
  const hot = report.results.find((r) => r.hot)?.hot;
  const background = renderBackground(report.results);
  return [
    `Benchmark: ${report.connections} connections, ${report.durationSeconds} s each, ` +
      `${report.machine.cpus} CPUs, Node ${report.machine.node}; wrk, 1 thread; ` +
      (report.clientCache ? `CLIENT_CACHE=${report.clientCache}` : "CLIENT_CACHE unset (the service's default)"),
    '',
    '| scenario | req/s | p50 ms | p99 ms | errors | unexpected | share | answers | wrk CPU/request | ' +
      'cmds/req (master+replicas) | top cmds/req | cache hits |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    ...(hot
      ? [
          '',
          `purchase-hot: ${hot.sold} sold of ${hot.initial}, stock after: ${hot.stockAfter} (must be 0 and equal); ` +
            `${hot.watchRetries} WATCH retries`,
        ]
      : []),
    ...(background.length > 0 ? ['', ...background] : []),
    ...report.results.flatMap((r) => {
      const lines = [...renderMixed(r), ...renderWatchers(r), ...renderScale(r)];
      return lines.length > 0 ? ['', ...lines] : [];
    }),
  ].join('\n');
}
