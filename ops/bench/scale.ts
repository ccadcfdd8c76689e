import { encodeCursor } from '../../src/stores/pagination.js';
import { jsonRequest } from '../../stack/helpers/http.js';
import type { DeploymentView } from '../deployment/deployment.js';
import type { ScenarioResult, ScaleOutcome } from './results.js';
import { BulkLoader, type BulkLoaded } from './scale-load.js';
import {
  NAME_WORDS,
  SCALE,
  measure,
  wrkScenario,
  type BenchData,
  type MeasureRun,
  type Measured,
} from './scenarios.js';
import { masterAddress } from './target.js';

export const SCALE_WHAT = 'catalog-get once products and purchases are bulk-loaded (the rest in the scale table)';
export const SCALE_DEFAULT_SIZE = 1_000_000;

/** What scale runs: the same requests at the seeded size and at scale. */
const MEASURED = ['catalog-get', 'catalog-page', 'search', 'search-filtered', 'purchase'];

export interface ScaleRun extends MeasureRun {
  products: number;
  purchases: number;
}

/**
 * Latency must stay flat as data grows: catalog-get, catalog-page, search (q), search-filtered (in stock, a price
 * range, by price) and purchase at the seeded size, then the bulk load (scale-load.ts, replicas caught up, the
 * loaded products in the search indexes), then the same again, reads and purchases spread over the loaded catalog
 * and the searches matching loaded products as well as seeded ones. Run last: the store keeps what it loaded.
 * One `scale: ` line starts it and one indented line ends it (how --profile tells scenarios apart); the steps
 * between are `scale · ` lines.
 */
export async function runScale(
  deployment: DeploymentView,
  data: BenchData,
  run: ScaleRun,
  log: (msg: string) => void,
): Promise<ScenarioResult> {
  log(
    `${SCALE}: ${MEASURED.join(', ')} (${run.durationSeconds} s each, ${run.connections} connections), ` +
      `then ${thousands(run.products)} products and ${thousands(run.purchases)} purchases bulk-loaded, then again`,
  );
  const step = (msg: string) => log(`${SCALE} · ${msg}`);
  const seeded = await measureAll(deployment, { ...data, runId: `${data.runId}-scale-seeded` }, run, 'seeded', step);
  const { products, purchases, productIds } = await bulkLoad(deployment, data, run, step);
  const checks = await readBack(deployment, data, products, purchases);
  step(`after the load: ${checks.map(checked).join('; ')}`);
  // As many ids as at the seeded size, spread over the loaded catalog.
  const productsSpread = sample(productIds, data.productIds.length);
  const spread = { ...data, runId: `${data.runId}-scale-large`, productIds: productsSpread };
  const atScale = await measureAll(deployment, spread, run, 'at scale', step);
  const runs = MEASURED.map((name, i) => ({ name, seeded: seeded[i]!, atScale: atScale[i]! }));
  log(
    `  p99 at scale / seeded: ${runs.map((r) => `${r.name} ${times(r.atScale.p99Ms, r.seeded.p99Ms)}`).join(', ')}; ` +
      `${Math.round(products.bytesEach)} bytes per product, ${Math.round(purchases.bytesEach)} per purchase`,
  );
  const get = runs[0]!;
  return {
    ...get.atScale,
    name: SCALE,
    what: SCALE_WHAT,
    ceiling: 'catalog-get seeded',
    ratio: get.atScale.rps / get.seeded.rps,
    scale: { products, purchases, runs, checks },
  };
}

async function bulkLoad(deployment: DeploymentView, data: BenchData, run: ScaleRun, log: (msg: string) => void) {
  const loader = await BulkLoader.connect(await masterAddress(deployment), deployment.keyPrefix, log);
  try {
    const { loaded: products, ids: productIds } = await loader.products(run.products, data.runId);
    const purchases = await loader.purchases(run.purchases, data.userIds, productIds);
    return { products, purchases, productIds };
  } finally {
    await loader.close();
  }
}

async function measureAll(
  deployment: DeploymentView,
  data: BenchData,
  run: MeasureRun,
  size: string,
  log: (msg: string) => void,
) {
  const results: Measured[] = [];
  for (const name of MEASURED) {
    const runName = `${SCALE}-${size.replace(' ', '-')}-${name}`;
    const r = await measure(wrkScenario(name), deployment, data, { ...run, runName });
    results.push(r);
    const figures = `${Math.round(r.rps)} req/s, p99 ${r.p99Ms.toFixed(1)} ms`;
    log(`${size} ${name}: ${figures}, ${r.errors} errors, ${r.unexpected} unexpected`);
  }
  return results;
}

/** `n` distinct items at random (all of them when there are fewer). */
function sample<T>(items: T[], n: number): T[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(n, items.length)) picked.add(Math.floor(Math.random() * items.length));
  return [...picked].map((i) => items[i]!);
}

/**
 * Through NGINX, as a client: the page of products after the first loaded one, a search only loaded names
 * match (found through the search-index entries the load wrote), and the first buyer's newest
 * purchases, with how many of their items are bulk-loaded ones (UUIDv7: those between the first and last id).
 */
async function readBack(deployment: DeploymentView, data: BenchData, products: BulkLoaded, purchases: BulkLoaded) {
  const get = async (what: string, url: string, loaded: BulkLoaded, token?: string) => {
    const res = await jsonRequest(deployment.publicUrl, 'GET', url, { token, timeoutMs: 10_000 });
    const ids: string[] = Array.isArray(res.body?.items) ? res.body.items.map((item: { id: string }) => item.id) : [];
    const bulk = ids.filter((id) => id >= loaded.firstId && id <= loaded.lastId).length;
    return { what, status: res.status, items: ids.length, bulk };
  };
  const after = encodeCursor(products.firstId);
  // Only loaded names hold "bulk" (the seed's never do), so every item of the search must be a loaded one.
  const word = NAME_WORDS[0]!;
  return [
    await get('products page after a loaded one', `/api/v1/products?limit=20&cursor=${after}`, products),
    await get(
      `a search for "bulk ${word}", dearest first`,
      `/api/v1/products?q=bulk%20${word}&sort=-price&limit=20`,
      products,
    ),
    await get("a buyer's newest purchases", '/api/v1/purchases?limit=20', purchases, data.tokens[0]),
  ];
}

const checked = (c: ScaleOutcome['checks'][number]) => `${c.what}: ${c.status}, ${c.bulk} of ${c.items} items loaded`;
const thousands = (n: number) => Math.round(n).toLocaleString('en');
const times = (a: number, b: number) => `×${(a / b).toFixed(2)}`;

/** The scale table under the main one: each scenario at both sizes, the ratios, the memory per entity. */
export function renderScale(result: ScenarioResult): string[] {
  const scale = result.scale;
  if (!scale) return [];
  const { products, purchases } = scale;
  const loaded = (what: string, l: BulkLoaded) =>
    `${thousands(l.count)} ${what} (bulk-loaded in ${l.seconds.toFixed(1)} s, ${Math.round(l.bytesEach)} bytes each)`;
  const rows = scale.runs.map(({ name, seeded: s, atScale: l }) => {
    const rps = [thousands(s.rps), thousands(l.rps), times(l.rps, s.rps)];
    const p99 = [s.p99Ms.toFixed(1), l.p99Ms.toFixed(1), times(l.p99Ms, s.p99Ms)];
    return `| ${[name, ...rps, ...p99, s.errors + l.errors, s.unexpected + l.unexpected].join(' | ')} |`;
  });
  return [
    `scale: ${loaded('products', products)} and ${loaded('purchases', purchases)}, replicas caught up; ` +
      `after the load ${scale.checks.map(checked).join('; ')}`,
    '',
    '| scale: scenario | req/s seeded | req/s at scale | ratio | ' +
      'p99 ms seeded | p99 ms at scale | ratio | errors | unexpected |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ];
}
