import t from 'tap';
import { renderBench, runBench } from '../stack/bench/bench.js';
import { REDIS_CEILING } from '../stack/bench/redis-ceiling.js';
import { BENCH_NGINX_LOCATIONS, SCENARIOS } from '../stack/bench/scenarios.js';
import { localTarget } from '../stack/bench/target.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

/**
 * A smoke run of `npm run bench`: a second of tiny load per scenario proves the harness drives every scenario
 * and produces its table. Nothing here asserts a speed: the figures belong in the benchmark report.
 */
t.test('every scenario runs under wrk and lands in the table, with its ceiling and its answers', async (t) => {
  const config = { ...(await testStackConfig(t)), nginxExtraLocations: BENCH_NGINX_LOCATIONS };
  const stack = await startTestStack(t, config);
  const scenarios = [...SCENARIOS.map((s) => s.name), REDIS_CEILING];
  const results = await runBench(
    localTarget(stack),
    { scenarios, durationSeconds: 1, connections: 2, hotStock: 3 },
    config.dir,
    (m) => t.comment(m),
  );
  t.same(results.map((r) => r.name).sort(), [...scenarios].sort(), 'every scenario ran');
  for (const r of results) {
    t.ok(r.requests > 0, `${r.name}: requests were answered`);
    t.equal(r.errors, 0, `${r.name}: no socket error`);
    t.equal(r.unexpected, 0, `${r.name}: only the answers it expects (${JSON.stringify(r.statuses)})`);
    t.ok(r.p99Ms >= r.p50Ms, `${r.name}: a p50 and a p99`);
    if (r.ceiling) t.type(r.ratio, 'number', `${r.name}: a share of ${r.ceiling}`);
  }
  const hot = results.find((r) => r.name === 'purchase-hot')?.hot;
  t.same(hot, { stockAfter: 0, sold: 3, initial: 3 }, 'the hot product sells out exactly, never below zero');
  const table = renderBench({
    machine: { cpus: 2, node: process.version },
    connections: 2,
    durationSeconds: 1,
    results,
  });
  for (const name of scenarios) t.match(table, `| ${name} |`, `the table has ${name}`);
});
