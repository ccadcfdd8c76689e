import type { TopLevelSpec } from 'vega-lite';
import type { BenchReport } from '../bench/bench.js';
import { chartSvg, escapeHtml, htmlPage, htmlTable } from './page.js';

const WIDTH = 700;
const SCENARIO = 'this scenario';
const CEILING = 'its ceiling, same run';
const AS_CEILING = 'a ceiling';

/** A bar: its row, its colour (what), and its place within the row (slot). */
interface Bar {
  scenario: string;
  what: string;
  slot: number;
}

/** Each scenario's req/s beside its ceiling's, measured in the same run (a ceiling: its own bar alone). */
export function throughputRows(report: BenchReport): (Bar & { rps: number })[] {
  const rpsOf = new Map(report.results.map((r) => [r.name, r.rps]));
  return report.results.flatMap((r) => {
    const ceiling = r.ceiling === undefined ? undefined : rpsOf.get(r.ceiling);
    if (r.ceiling === undefined) return [{ scenario: r.name, what: AS_CEILING, slot: 0, rps: r.rps }];
    const own = { scenario: r.name, what: SCENARIO, slot: 0, rps: r.rps };
    return ceiling === undefined ? [own] : [own, { scenario: r.name, what: CEILING, slot: 1, rps: ceiling }];
  });
}

/** Horizontal bars, one row per scenario in the report's order, a row's bars one under the other by slot. */
function groupedBars(
  rows: Bar[],
  value: { field: string; title: string },
  groups: { domain: string[]; range: string[] },
  name: string,
): TopLevelSpec {
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    // The step is each bar's, the offset's band: a row is two bars high.
    height: { step: 14 },
    data: { values: rows },
    name,
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'scenario', type: 'nominal', sort: scenarios, title: null },
      yOffset: { field: 'slot', type: 'ordinal', scale: { paddingOuter: 0.3 } },
      x: { field: value.field, type: 'quantitative', title: value.title },
      color: { field: 'what', type: 'nominal', title: null, scale: groups, legend: { orient: 'top', labelLimit: 0 } },
    },
  } as TopLevelSpec;
}

export function throughputSpec(report: BenchReport): TopLevelSpec {
  const groups = { domain: [SCENARIO, CEILING, AS_CEILING], range: ['#1f77b4', '#aec7e8', '#7f7f7f'] };
  return groupedBars(throughputRows(report), { field: 'rps', title: 'requests per second' }, groups, 'throughput');
}

export function latencySpec(report: BenchReport): TopLevelSpec {
  const rows = report.results.flatMap((r) => [
    { scenario: r.name, what: 'p50', slot: 0, ms: r.p50Ms },
    { scenario: r.name, what: 'p99', slot: 1, ms: r.p99Ms },
  ]);
  const groups = { domain: ['p50', 'p99'], range: ['#2ca02c', '#d62728'] };
  return groupedBars(rows, { field: 'ms', title: 'latency, ms' }, groups, 'latency');
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

/** The benchmark's report as one page: req/s beside the ceilings, p50 and p99, then the figures as a table. */
export async function benchPage(report: BenchReport): Promise<string> {
  const title = `Evergreen benchmark: ${report.results.length} scenarios`;
  const table = htmlTable(
    ['scenario', 'req/s', 'ceiling', 'share', 'p50 ms', 'p99 ms', 'errors', 'unexpected'],
    report.results.map((r) => ({
      cells: [
        escapeHtml(r.name),
        String(Math.round(r.rps)),
        escapeHtml(r.ceiling ?? '–'),
        r.ratio === undefined ? '–' : `${Math.round(r.ratio * 100)}%`,
        ms(r.p50Ms),
        ms(r.p99Ms),
        String(r.errors),
        String(r.unexpected),
      ],
      className: r.errors + r.unexpected > 0 ? 'fail' : undefined,
    })),
  );
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="lead">${escapeHtml(
      `${report.connections} connections, ${report.durationSeconds} s each, ${report.machine.cpus} CPUs, ` +
        `Node ${report.machine.node}; ` +
        (report.clientCache ? `CLIENT_CACHE=${report.clientCache}` : "CLIENT_CACHE unset (the service's default)"),
    )}</p>`,
    '<h2>Requests per second, beside each scenario&#39;s ceiling</h2>',
    '<p class="note">A scenario&#39;s ceiling is measured in the same run on the same machine: ceiling-http, ' +
      'a trivial route of the same instances behind the same NGINX; the other ceilings (grey) stand alone.</p>',
    `<figure class="chart">${await chartSvg(throughputSpec(report))}</figure>`,
    '<h2>Latency: p50 and p99</h2>',
    `<figure class="chart">${await chartSvg(latencySpec(report))}</figure>`,
    '<h2>Figures</h2>',
    table,
  ];
  return htmlPage(title, body.join('\n'));
}
