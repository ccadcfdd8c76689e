import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

// One look for every chart: the page's font, a white ground, no frame around the plot.
const CHART_CONFIG = {
  font: 'system-ui, sans-serif',
  background: 'white',
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal' },
  legend: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal' },
} as const;

/**
 * A Vega-Lite chart rendered to an SVG string in Node (Vega's headless view, no canvas, no DOM), for a page
 * that needs no script to show it. The data must be inline: a page never loads anything.
 */
export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: vegaSpec } = compile({ ...spec, config: { ...CHART_CONFIG, ...spec.config } } as TopLevelSpec);
  const view = new View(parse(vegaSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML (a fault's note, an invariant's example: anything the report did not write itself). */
export const escapeHtml = (text: unknown): string => String(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);

/** A cell already as HTML, or with a class of its own. */
export type Cell = string | { html: string; className: string };

/** A table: the header cells as text, then each row's cells, with a class per row when given. */
export function htmlTable(head: string[], rows: { cells: Cell[]; className?: string }[]): string {
  const attr = (className?: string) => (className ? ` class="${className}"` : '');
  const cell = (c: Cell, tag: 'th' | 'td') =>
    typeof c === 'string' ? `<${tag}>${c}</${tag}>` : `<${tag}${attr(c.className)}>${c.html}</${tag}>`;
  const tr = (cells: Cell[], tag: 'th' | 'td', className?: string) =>
    `<tr${attr(className)}>${cells.map((c) => cell(c, tag)).join('')}</tr>`;
  return [
    '<table>',
    `<thead>${tr(head.map(escapeHtml), 'th')}</thead>`,
    `<tbody>${rows.map((r) => tr(r.cells, 'td', r.className)).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

/** Seconds with two decimals, or a dash when it did not happen. */
export const seconds = (ms: number | undefined): string => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 1000px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 4px; }
.lead, .note { color: #555; margin: 4px 0; } .chart { margin: 8px 0; overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
tr.pass td.verdict { color: #1a7f37; font-weight: 600; } tr.fail td.verdict { color: #c62828; font-weight: 600; }
tr.fail { background: #fff2f2; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 4px; color: white; font-weight: 600; }
.badge.pass { background: #1a7f37; } .badge.fail { background: #c62828; }
figure { margin: 0; } figcaption { color: #555; font-size: 12px; }
`;

/**
 * One self-contained page: inline CSS and inline SVG, and a policy that forbids everything else, so it shows the
 * same from a CI artifact, an e-mail or a laptop offline.
 */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
