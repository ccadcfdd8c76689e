import type { TopLevelSpec } from 'vega-lite';
import { LEAD_MS } from '../drill/cycle-series.js';
import type { CycleReport } from '../drill/cycle-stats.js';
import { renderFaultFigures, resourceLines } from '../drill/fault-summary.js';
import type { DrillReport } from '../drill/report.js';
import { chartSvg, escapeHtml, htmlPage, htmlTable, seconds } from './page.js';

const WIDTH = 860;

// One colour scale for the whole timeline, so one legend names the load's lines and the marked moments alike.
const LINES = ['acknowledged purchases/s', 'catalog reads/s', 'failed catalog reads/s'] as const;
const MOMENTS = ['+sdown', '+odown', '+switch-master', 'fence up', 'fence down', 'resource back'] as const;
const COLORS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#bcbd22', '#8c564b', '#d62728', '#9467bd', '#17becf', '#e377c2'];

/** A moment marked on the timeline: a Sentinel's event about the master, or an instance's fence going up or down. */
export interface Moment {
  s: number;
  what: (typeof MOMENTS)[number];
  detail: string;
}

/**
 * The moments of a cycle: each Sentinel event once — the three Sentinels announce the same one, up to a second or
 * so apart: the first stands for them — unless it names another master (a second failover), and every fence
 * change of every instance.
 */
export function cycleMoments(cycle: CycleReport): Moment[] {
  const moments: Moment[] = [];
  const seen = new Set<string>();
  for (const e of [...cycle.events].sort((a, b) => a.ms - b.ms)) {
    const event = MOMENTS.find((m) => m === e.event);
    if (!event || (e.event.endsWith('sdown') && !e.message.startsWith('master '))) continue;
    // "+odown master evergreen 127.0.0.1 6379 #quorum 2/2": the quorum differs from one Sentinel to the next.
    const about = `${event} ${e.message.split(' #')[0]}`;
    if (seen.has(about)) continue;
    seen.add(about);
    moments.push({ s: e.ms / 1000, what: event, detail: `sentinel-${e.sentinel}: ${e.message}` });
  }
  for (const f of cycle.fence ?? []) {
    moments.push({ s: f.ms / 1000, what: f.fenced ? 'fence up' : 'fence down', detail: f.api });
  }
  // A resource fault (disk, memory, slow replica): when the drill gave the resource back.
  if (cycle.resource) {
    moments.push({ s: cycle.resource.restoredMs / 1000, what: 'resource back', detail: cycle.fault });
  }
  return moments;
}

/** The cycle's timeline (the load per second, the outage shaded, the moments) over its other answers per second. */
export function cycleSpec(cycle: CycleReport): TopLevelSpec {
  const series = cycle.series ?? [];
  const lines = series.flatMap((sec) => [
    { s: sec.ms / 1000, what: LINES[0], n: sec.acknowledged },
    { s: sec.ms / 1000, what: LINES[1], n: sec.reads },
    { s: sec.ms / 1000, what: LINES[2], n: sec.failedReads },
  ]);
  // The last second's value held to its end, so a step line reaches the right edge.
  const last = series.at(-1);
  if (last) lines.push(...lines.slice(-3).map((p) => ({ ...p, s: last.ms / 1000 + 1 })));
  const answers = series.flatMap((sec) =>
    Object.entries(sec.answersByCode).map(([code, n]) => ({ s: sec.ms / 1000, end: sec.ms / 1000 + 1, code, n })),
  );
  const outage = cycle.writeOutageWindow;
  // Both charts over the same seconds, exactly those of the series (Vega would round them out).
  const domain = last ? [series[0]!.ms / 1000, last.ms / 1000 + 1] : undefined;
  const x = { field: 's', type: 'quantitative', title: 'seconds after the fault', scale: { domain } } as const;
  const legend = { orient: 'top', direction: 'horizontal', labelLimit: 0 } as const;
  const color = {
    field: 'what',
    type: 'nominal',
    title: null,
    scale: { domain: [...LINES, ...MOMENTS], range: COLORS },
    legend: { ...legend, columns: 4 },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    resolve: { scale: { x: 'shared', color: 'independent' } },
    vconcat: [
      {
        width: WIDTH,
        height: 200,
        layer: [
          {
            name: 'outage',
            data: { values: outage ? [{ s: outage.startMs / 1000, end: outage.endMs / 1000 }] : [] },
            mark: { type: 'rect', color: '#d62728', opacity: 0.12 },
            encoding: { x, x2: { field: 'end' } },
          },
          {
            name: 'load',
            data: { values: lines },
            mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5 },
            encoding: { x, y: { field: 'n', type: 'quantitative', title: 'per second' }, color },
          },
          {
            name: 'moments',
            data: { values: cycleMoments(cycle) },
            mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
            encoding: { x, color },
          },
        ],
      },
      {
        width: WIDTH,
        height: 90,
        title: {
          text: `purchase answers other than 201, per second${answers.length === 0 ? ': none' : ''}`,
          fontSize: 11,
          fontWeight: 'normal',
        },
        layer: [
          {
            name: 'answers',
            data: { values: answers },
            mark: { type: 'bar', binSpacing: 0 },
            encoding: {
              x: { ...x, bin: { binned: true, step: 1 } },
              x2: { field: 'end' },
              y: {
                field: 'n',
                type: 'quantitative',
                stack: 'zero',
                title: 'answers',
                // An empty chart keeps a 0–1 axis rather than Vega's 0.000000.
                scale: answers.length === 0 ? { domain: [0, 1] } : {},
                axis: { tickMinStep: 1 },
              },
              color: { field: 'code', type: 'nominal', title: 'status code', scale: { scheme: 'dark2' }, legend },
            },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

/** Each fault's figures over its cycles (what a soak says), from the report's Markdown table. */
function perFault(report: DrillReport): string[] {
  if (!report.byFault || report.byFault.length === 0) return [];
  const [head, , ...rows] = renderFaultFigures(report.byFault).map((line) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );
  return [
    '<h2>Per fault, over its cycles</h2>',
    htmlTable(
      head!,
      rows.map((cells) => ({ cells: cells.map(escapeHtml) })),
    ),
  ];
}

const verdict = (pass: boolean) => (pass ? 'PASS' : 'FAIL');
const entries = (record: Record<string, number>) =>
  Object.entries(record)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

async function cycleSection(cycle: CycleReport): Promise<string> {
  const { timeline } = cycle;
  const figures = [
    `+sdown ${seconds(timeline.sdown)}`,
    `+odown ${seconds(timeline.odown)}`,
    `+switch-master ${seconds(timeline.switchMaster)}`,
    `first 201 ${seconds(timeline.firstAck)}`,
    `write outage ${seconds(cycle.writeOutageMs)}`,
    `${cycle.acknowledged} acknowledged, ${cycle.lost} lost, ${cycle.duplicates} charged twice`,
    `failed reads ${cycle.failedReads}/${cycle.reads}`,
    cycle.healed ? `healed in ${seconds(cycle.healMs)}` : 'NOT HEALED',
  ];
  const pause = cycle.pauseSeconds === undefined ? '' : ` (${cycle.pauseSeconds} s)`;
  const seen = resourceLines([cycle]).map((line) => line.replace(/^- cycle \d+: /, ''));
  const notes = [...seen, ...cycle.notes].map((n) => `<p class="note">${escapeHtml(n)}</p>`).join('\n');
  return [
    `<section class="cycle" id="cycle-${cycle.cycle}">`,
    `<h2>Cycle ${cycle.cycle}: ${escapeHtml(cycle.fault)}${pause}</h2>`,
    `<p class="lead">${figures.map(escapeHtml).join(' · ')}</p>`,
    `<figure class="chart">${await chartSvg(cycleSpec(cycle))}</figure>`,
    notes,
    '</section>',
  ].join('\n');
}

/** The drill's report as one page: the verdict, the invariants, then each cycle's timeline. */
export async function drillPage(report: DrillReport): Promise<string> {
  const { stack, load, totals } = report;
  const title = `Evergreen drill: ${report.fault}, ${report.cycles.length} cycle(s) — ${verdict(report.passed)}`;
  const invariants = htmlTable(
    ['#', 'invariant', 'result', 'counts'],
    report.invariants.map((i) => ({
      className: i.pass ? 'pass' : 'fail',
      cells: [
        String(i.id),
        escapeHtml(i.name),
        { html: verdict(i.pass), className: 'verdict' },
        escapeHtml(entries(i.counts)),
      ],
    })),
  );
  const examples = report.invariants.flatMap((i) => i.examples.map((e) => `<li>${i.id}: ${escapeHtml(e)}</li>`));
  const polling = report.fencePolling;
  const fenceRead = polling ? ` (read every ${polling.intervalMs} ms, ${polling.failures} reads failed)` : '';
  const body = [
    `<h1>${escapeHtml(report.fault)} <span class="badge ${report.passed ? 'pass' : 'fail'}">` +
      `${verdict(report.passed)}</span></h1>`,
    `<p class="lead">${escapeHtml(
      `${report.startedAt}, ${seconds(report.durationMs)}. Stack ${stack.publicUrl} (${stack.apiRunner}), ` +
        `Sentinel down-after ${stack.downAfterMs} ms, failover-timeout ${stack.failoverTimeoutMs} ms. ` +
        `Load: ${load.clients} buyers, ${load.products} products, ${load.readsPerSecond} catalog reads/s. ` +
        `${totals.acknowledged} purchases acknowledged, ${totals.lost} lost, ${totals.duplicates} charged twice; ` +
        `longest write outage ${seconds(totals.longestWriteOutageMs)}.`,
    )}</p>`,
    '<h2>Invariants</h2>',
    invariants,
    examples.length > 0 ? `<ul>${examples.join('\n')}</ul>` : '',
    ...perFault(report),
    `<p class="note">Each cycle below: the load second by second from ${LEAD_MS / 1000} s before the fault ` +
      '(lines), the longest ' +
      'time without a 201 shaded red, the Sentinels&#39; events about the master and each API instance&#39;s ' +
      `failover fence${escapeHtml(fenceRead)} as dashed lines` +
      '; under it, the purchase answers other than 201 by status and code.</p>',
    ...(await Promise.all(report.cycles.map(cycleSection))),
  ];
  return htmlPage(title, body.join('\n'));
}
