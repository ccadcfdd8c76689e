import { jsonRequest } from '../http.js';
import { SCENARIOS, seedBenchData, type BenchData } from './scenarios.js';
import { REDIS_CEILING, REDIS_CEILING_WHAT, redisCeiling } from './redis-ceiling.js';
import type { BenchTarget } from './target.js';
import { runWrk, type WrkResult } from './wrk.js';

export interface BenchOptions {
  scenarios: string[];
  durationSeconds: number;
  connections: number;
  /** Units of the hot product: sold out early in a run, so the rest of it measures refusals. */
  hotStock: number;
}

export interface ScenarioResult extends WrkResult {
  name: string;
  what: string;
  ceiling: string | undefined;
  /** req/s as a share of the ceiling's req/s, measured in the same run. */
  ratio: number | undefined;
  /** Answers outside 2xx that the scenario did not expect. */
  unexpected: number;
  /** The hot product's stock after its run (must be exactly 0), and the 201s (must equal its initial stock). */
  hot?: { stockAfter: number; sold: number; initial: number };
}

export interface BenchReport {
  machine: { cpus: number; node: string };
  connections: number;
  durationSeconds: number;
  results: ScenarioResult[];
}

/** Runs each chosen scenario (ceilings first, so every ratio has its ceiling) against the stack. */
export async function runBench(
  target: BenchTarget,
  options: BenchOptions,
  dir: string,
  log: (msg: string) => void,
): Promise<ScenarioResult[]> {
  const chosen = SCENARIOS.filter((s) => options.scenarios.includes(s.name));
  const needed = new Set(chosen.flatMap((s) => (s.ceiling ? [s.ceiling, s.name] : [s.name])));
  const ordered = SCENARIOS.filter((s) => needed.has(s.name)).sort((a, b) => Number(!!a.ceiling) - Number(!!b.ceiling));
  const data: BenchData = await seedBenchData(target, options.hotStock, log);
  const results = new Map<string, ScenarioResult>();
  if (options.scenarios.includes(REDIS_CEILING)) {
    log(`${REDIS_CEILING}: about ${options.durationSeconds} s, ${options.connections} connections`);
    const firstProduct = data.productIds[0] ?? '';
    const redis = await redisCeiling(target, firstProduct, options.connections, options.durationSeconds);
    const result = { ...redis, name: REDIS_CEILING, what: REDIS_CEILING_WHAT, ceiling: undefined, ratio: undefined };
    results.set(REDIS_CEILING, { ...result, unexpected: 0 });
    log(`  ${Math.round(redis.rps)} commands/s, p99 ${redis.p99Ms.toFixed(1)} ms`);
  }
  for (const scenario of ordered) {
    const base = scenario.target === 'nginx' ? target.publicUrl : target.directUrl;
    log(`${scenario.name}: ${options.durationSeconds} s, ${options.connections} connections → ${base}`);
    const wrk = await runWrk({
      url: base,
      requestLua: scenario.lua(data),
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      dir,
      name: scenario.name,
    });
    const ceiling = scenario.ceiling ? results.get(scenario.ceiling) : undefined;
    const unexpected = Object.entries(wrk.statuses)
      .filter(([status]) => !scenario.expected.includes(status))
      .reduce((sum, [, n]) => sum + n, 0);
    const result: ScenarioResult = {
      ...wrk,
      name: scenario.name,
      what: scenario.what,
      ceiling: scenario.ceiling,
      ratio: ceiling ? wrk.rps / ceiling.rps : undefined,
      unexpected,
    };
    if (scenario.name === 'purchase-hot') result.hot = await hotOutcome(target, data, wrk);
    results.set(scenario.name, result);
    log(
      `  ${Math.round(wrk.rps)} req/s, p99 ${wrk.p99Ms.toFixed(1)} ms, ${wrk.errors} errors, ${unexpected} unexpected`,
    );
  }
  return [...results.values()];
}

async function hotOutcome(target: BenchTarget, data: BenchData, wrk: WrkResult) {
  const res = await jsonRequest(target.publicUrl, 'GET', `/api/v1/products/${data.hot.id}`, { timeoutMs: 5000 });
  return { stockAfter: Number(res.body.stock), sold: wrk.statuses['201'] ?? 0, initial: data.hot.stock };
}

const ms = (value: number) => value.toFixed(1);

/** The markdown table: req/s, p50, p99, errors, unexpected answers, and the share of the ceiling. */
export function renderBench(report: BenchReport): string {
  const rows = report.results.map((r) => {
    const ratio = r.ratio === undefined ? 'ceiling' : `${Math.round(r.ratio * 100)}% of ${r.ceiling}`;
    const byWrk = Object.keys(r.statuses).length > 0; // ceiling-redis is redis-benchmark's
    const cpu = byWrk ? `${Math.round((r.generatorCpuSeconds / r.requests) * 1e6)} µs` : '-';
    const statuses = Object.entries(r.statuses)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    const cells = [r.name, Math.round(r.rps), ms(r.p50Ms), ms(r.p99Ms), r.errors, r.unexpected, ratio, statuses, cpu];
    return `| ${cells.join(' | ')} |`;
  });
  const hot = report.results.find((r) => r.hot)?.hot;
  return [
    `Benchmark: ${report.connections} connections, ${report.durationSeconds} s each, ` +
      `${report.machine.cpus} CPUs, Node ${report.machine.node}; wrk, 1 thread`,
    '',
    '| scenario | req/s | p50 ms | p99 ms | errors | unexpected | share | answers | wrk CPU/request |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    ...(hot
      ? ['', `purchase-hot: ${hot.sold} sold of ${hot.initial}, stock after: ${hot.stockAfter} (must be 0 and equal)`]
      : []),
  ].join('\n');
}
