import t from 'tap';
import { Redis } from 'ioredis';
import { runBench } from '../ops/bench/bench.js';
import { BENCH_API_ENV } from '../ops/bench/command.js';
import { ComposeBench } from '../ops/bench/compose-target.js';
import { REDIS_CEILING } from '../ops/bench/redis-ceiling.js';
import { engineForTests } from './helpers/compose-run.js';
import { tempDir } from './helpers/fixtures.js';

/**
 * `npm run bench -- --target compose`, tiny: compose.yml up as the benchmark's own project, a second of two
 * connections per scenario, then down -v. Proves the target: NGINX with the benchmark's location, one instance
 * published, the master found through the Sentinels. Nothing here asserts a speed.
 */

/** The scenarios run, with the only answers each may get (redis-benchmark's ceiling has no HTTP answers). */
const EXPECTED: Record<string, string[]> = {
  'ceiling-http': ['200'],
  'ceiling-direct': ['200'],
  [REDIS_CEILING]: [],
  'catalog-get': ['200'],
  purchase: ['201'],
};
const CHOSEN = Object.keys(EXPECTED);

// compose up takes ~45 s (minutes when the API image must be rebuilt), the scenarios and the seeding ~20 s.
t.setTimeout(600_000);
if (await engineForTests(t)) await composeBench();
else t.pass('SKIPPED, not silently: no Docker engine can be had here (not root); the comment above says why');

async function composeBench() {
  const log = (msg: string) => t.comment(msg);
  let bench: ComposeBench | undefined;
  const dir = await tempDir(t, 'bench-compose-test', async () => bench?.close());
  bench = new ComposeBench(dir, BENCH_API_ENV, log);
  // A failure here ends the file before any teardown runs: leave nothing behind.
  const target = await bench.start().catch(async (err: Error) => {
    await bench?.close();
    throw err;
  });

  t.test('every scenario runs through the Compose project, without an error or an unexpected answer', async (t) => {
    const options = { scenarios: CHOSEN, durationSeconds: 1, connections: 2, hotStock: 3 };
    const results = await runBench(target, options, dir, log);
    t.same(results.map((r) => r.name).sort(), [...CHOSEN].sort(), 'every chosen scenario ran');
    for (const r of results) {
      const expected = EXPECTED[r.name] ?? [];
      t.ok(r.requests > 0 && r.rps > 0, `${r.name}: ${r.requests} requests answered`);
      t.equal(r.errors, 0, `${r.name}: no socket error`);
      t.equal(r.unexpected, 0, `${r.name}: no unexpected answer`);
      t.same(
        Object.keys(r.statuses).filter((status) => !expected.includes(status)),
        [],
        `${r.name}: only ${expected.join(', ') || 'no HTTP'} answers (${JSON.stringify(r.statuses)})`,
      );
    }
    t.type(results.find((r) => r.name === 'catalog-get')?.ratio, 'number', 'catalog-get is a share of ceiling-http');
  });

  t.test("the master the target gives is the Sentinels' master, reached on its published port", async (t) => {
    const master = await target.master();
    t.equal(master.host, '127.0.0.1');
    const redis = new Redis({ ...master, lazyConnect: true });
    t.teardown(() => redis.quit());
    await redis.connect();
    t.equal(((await redis.role()) as string[])[0], 'master', `${master.port} is a master`);
  });
}
