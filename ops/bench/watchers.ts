import { ResumingWatcher } from '../live/sse-client.js';
import type { DeploymentView } from '../deployment/deployment.js';
import type { ScenarioResult } from './results.js';
import { measure, wrkScenario, type BenchData, type MeasureRun, type Measured } from './scenarios.js';
import { sumCounter } from './target.js';
import type { SseEvent } from '../live/sse-client.js';

export const WATCHERS = 'watchers';
/** Live streams the scenario holds open through NGINX. */
export const WATCHER_COUNT = 1000;
/** Products each stream watches: the catalog's products, spread over the streams. */
const WATCHED_PER_STREAM = 10;
// NGINX holds at most 100 streams per client address (limit_conn): the streams come from 127.0.0.2, .3, …
const STREAMS_PER_ADDRESS = 50;

export const WATCHERS_WHAT =
  `purchase alone, then again with ${WATCHER_COUNT} live stock streams open through NGINX, ` +
  `each watching ${WATCHED_PER_STREAM} of the products it buys: what the watchers cost, ` +
  'and how soon a sale reaches them';

export interface WatchersOutcome {
  alone: Measured;
  streams: number;
  refused: Record<string, number>;
  /** stock events the streams received during the measured window */
  events: number;
  /** events the instances wrote to streams meanwhile (evergreen_sse_events_total, snapshots of resumes included) */
  sent: number;
  /** streams the instances dropped meanwhile (too slow a reader), and streams that ended and resumed */
  dropped: number;
  resumed: number;
  /** CPU seconds both API instances spent in each run's window, and this process reading the streams */
  apiCpuSeconds: { alone: number; beside: number };
  clientCpuSeconds: number;
  /** from a change (its event's `at`) to its arrival at a watcher, over every event of the window */
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  deliveryMaxMs: number;
  /** the API instances' resident memory added per open stream (both instances together) */
  bytesPerStream: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/**
 * The API instances' resident memory, both together: the least of five readings over two seconds (a reading between
 * two garbage collections holds garbage; the least holds the least of it).
 */
async function residentBytes(deployment: DeploymentView): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 5; i++) {
    readings.push(await sumCounter(deployment, 'process_resident_memory_bytes'));
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return Math.min(...readings);
}

/**
 * The purchase scenario alone, then again while WATCHER_COUNT streams through NGINX watch the products it buys.
 * The row is the purchases under the watchers, as a share of alone; under it, the delivery latency (each event's
 * arrival minus the change's time: one clock, this host's) and the memory an open stream costs.
 */
export async function runWatchers(
  deployment: DeploymentView,
  data: BenchData,
  run: MeasureRun,
  log: (msg: string) => void,
  count = WATCHER_COUNT,
): Promise<ScenarioResult> {
  const purchases = wrkScenario('purchase');
  log(`${WATCHERS}: purchase alone, then beside ${count} live streams; ${run.durationSeconds} s each`);
  // Keys of their own (the purchase Lua's keys start with the run id): purchases, not replays of another run's.
  const fresh = (suffix: string) => ({ ...data, runId: `${data.runId}-${suffix}` });
  const apiCpu = () => sumCounter(deployment, 'process_cpu_seconds_total');
  let cpuBefore = await apiCpu();
  const alone = await measure(purchases, deployment, fresh('watchers-alone'), { ...run, runName: `${WATCHERS}-alone` });
  const apiCpuAlone = (await apiCpu()) - cpuBefore;
  log(`${WATCHERS} · purchases alone: ${Math.round(alone.rps)} req/s, p99 ${alone.p99Ms.toFixed(1)} ms`);

  const before = await residentBytes(deployment);
  let measuring = false;
  const delays: number[] = [];
  const onEvent = (event: SseEvent) => {
    const at = Date.parse(event.data?.at ?? '');
    if (measuring && event.event === 'stock' && Number.isFinite(at)) delays.push(event.at - at);
  };
  const streams: ResumingWatcher[] = [];
  const refused: Record<string, number> = {};
  const products = data.productIds;
  for (let i = 0; i < count; i += STREAMS_PER_ADDRESS) {
    const batch = Array.from({ length: Math.min(STREAMS_PER_ADDRESS, count - i) }, (_, j) => {
      const n = i + j;
      const ids = Array.from({ length: WATCHED_PER_STREAM }, (_, k) => products[(n * 7 + k) % products.length]!);
      const path = `/products/events?ids=${[...new Set(ids)].join(',')}`;
      const localAddress = `127.0.0.${2 + i / STREAMS_PER_ADDRESS}`;
      const watcher = new ResumingWatcher([`${deployment.publicUrl}/api/v1`], path, {
        localAddress,
        keep: false,
        onEvent,
      });
      return watcher.firstAnswer().then((status) => ({ status, watcher }));
    });
    for (const { status, watcher } of await Promise.all(batch)) {
      if (status === 200) streams.push(watcher);
      else {
        refused[String(status)] = (refused[String(status)] ?? 0) + 1;
        void watcher.stop();
      }
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = await residentBytes(deployment);
  log(`${WATCHERS} · ${streams.length} streams open (refused: ${JSON.stringify(refused)})`);
  const written = () => sumCounter(deployment, 'evergreen_sse_events_total');
  const slow = () => sumCounter(deployment, 'evergreen_sse_dropped_total');
  const [writtenBefore, slowBefore] = [await written(), await slow()];
  measuring = true;
  cpuBefore = await apiCpu();
  const clientBefore = process.cpuUsage();
  const under = await measure(purchases, deployment, fresh('watchers'), { ...run, runName: WATCHERS });
  const apiCpuUnder = (await apiCpu()) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  // The window's last sales still on their way.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  measuring = false;
  await Promise.all(streams.map((stream) => stream.stop()));
  const sent = (await written()) - writtenBefore;
  const dropped = (await slow()) - slowBefore;
  delays.sort((a, b) => a - b);
  const watchers: WatchersOutcome = {
    alone,
    streams: streams.length,
    refused,
    events: delays.length,
    sent,
    dropped,
    resumed: streams.reduce((sum, w) => sum + w.ends, 0),
    apiCpuSeconds: { alone: apiCpuAlone, beside: apiCpuUnder },
    clientCpuSeconds: (client.user + client.system) / 1e6,
    deliveryP50Ms: percentile(delays, 50),
    deliveryP99Ms: percentile(delays, 99),
    deliveryMaxMs: delays.at(-1) ?? 0,
    bytesPerStream: streams.length > 0 ? (after - before) / streams.length : 0,
  };
  log(
    `  purchases ${Math.round(under.rps)} req/s beside the streams (${Math.round((under.rps / alone.rps) * 100)}% ` +
      `of alone); ${delays.length} events, delivery p50 ${watchers.deliveryP50Ms} ms, p99 ` +
      `${watchers.deliveryP99Ms} ms; ${Math.round(watchers.bytesPerStream)} bytes per stream`,
  );
  return {
    ...under,
    name: WATCHERS,
    what: WATCHERS_WHAT,
    ceiling: 'purchase alone',
    ratio: under.rps / alone.rps,
    watchers,
  };
}

/** The line under the table. */
export function renderWatchers(result: ScenarioResult): string[] {
  const w = result.watchers;
  if (!w) return [];
  return [
    `watchers: ${w.streams} streams open (refused ${JSON.stringify(w.refused)}); purchases ` +
      `${Math.round(w.alone.rps)} req/s alone, ${Math.round(result.rps)} beside them; ${w.events} stock events ` +
      `read (the instances wrote ${w.sent}; ${w.dropped} streams dropped as too slow, ${w.resumed} resumed) ` +
      `in the window: p50 ${w.deliveryP50Ms} ms, p99 ${w.deliveryP99Ms} ms, max ${w.deliveryMaxMs} ms ` +
      `from the change; ${Math.round(w.bytesPerStream)} bytes of API memory per open stream; CPU seconds: the ` +
      `instances ${w.apiCpuSeconds.alone.toFixed(1)} alone, ${w.apiCpuSeconds.beside.toFixed(1)} beside the ` +
      `streams, the stream reader (this process) ${w.clientCpuSeconds.toFixed(1)}`,
  ];
}
