import t from 'tap';
import { Redis } from 'ioredis';
import { runBench } from '../ops/bench/bench.js';
import { benchComposeOptions } from '../ops/bench/command.js';
import { REDIS_CEILING } from '../ops/bench/redis-ceiling.js';
import { directUrl, masterAddress } from '../ops/bench/target.js';
import { docker, projectContainers } from '../ops/deployment/compose-containers.js';
import { startComposeDeployment } from '../ops/deployment/compose-start.js';
import { engineForTests } from './helpers/compose-run.js';
import { tempDir } from './helpers/fixtures.js';

/**
 * `npm run bench -- --target compose`, tiny: compose.yml up as the benchmark's own project through the deployment
 * module, a second of two connections per scenario, then down -v. Proves what the benchmark asks of it: NGINX
 * with the benchmark's location, an instance and the master on their container addresses, both instances'
 * /metrics; and that a start aborted halfway through `up` leaves nothing behind. Nothing here asserts a speed.
 */

/** The scenarios run, with the only answers each may get (redis-benchmark's ceiling has no HTTP answers). */
const EXPECTED: Record<string, string[]> = {
  'ceiling-http': ['200'],
  'ceiling-direct': ['200'],
  [REDIS_CEILING]: [],
  'catalog-get': ['200'],
  purchase: ['201'],
  'purchase-hot': ['201', '409'],
};
const CHOSEN = Object.keys(EXPECTED);
const PROGRESS = /^ {2}(\d+\/\d+ containers up, \d+ healthy|building the API image)/;

// compose up takes ~45 s (minutes when the API image must be rebuilt), twice; the scenarios and the seeding ~20 s.
t.setTimeout(900_000);
if (await engineForTests(t)) await composeBench();
else t.pass('SKIPPED, not silently: no Docker engine can be had here (not root); the comment above says why');

async function composeBench() {
  const logged: string[] = [];
  const log = (msg: string) => {
    logged.push(msg);
    t.comment(msg);
  };
  // A failure here ends the file before any teardown runs: the start has taken down what it made.
  const deployment = await startComposeDeployment(benchComposeOptions(log));
  const dir = await tempDir(t, 'bench-compose-test', () => deployment.stop());

  t.test('while `up` ran, progress lines said how many containers were up and healthy', async (t) => {
    t.ok(
      logged.some((line) => PROGRESS.test(line)),
      'at least one progress line',
    );
  });

  t.test('every scenario runs through the Compose project, without an error or an unexpected answer', async (t) => {
    const options = { scenarios: CHOSEN, durationSeconds: 1, connections: 2, hotStock: 3 };
    const results = await runBench(deployment, options, dir, log);
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
    const hot = results.find((r) => r.name === 'purchase-hot')?.hot;
    t.match(hot, { stockAfter: 0, sold: 3, initial: 3 }, 'the hot product sells out exactly');
    t.ok(Number.isInteger(hot?.watchRetries) && hot!.watchRetries >= 0, "WATCH retries from both instances' metrics");
  });

  t.test('the instances and the master are reached on their container addresses, not published ports', async (t) => {
    const apis = await deployment.apis();
    t.same(
      apis.map((api) => api.name),
      ['api-1', 'api-2'],
      'both instances',
    );
    t.equal(await directUrl(deployment), apis[0]?.url, 'ceiling-direct goes to api-1');
    for (const api of apis) {
      t.notMatch(api.url, /127\.0\.0\.1/, `${api.name}: ${api.url}`);
      t.equal((await fetch(`${api.url}/metrics`)).status, 200, `${api.name} answers /metrics`);
    }
    const master = await masterAddress(deployment);
    t.notMatch(master.host, /127\.0\.0\.1/, `the master on ${master.host}:${master.port}`);
    const redis = new Redis({ ...master, lazyConnect: true });
    t.teardown(() => redis.quit());
    await redis.connect();
    t.equal(((await redis.role()) as string[])[0], 'master', `${master.host} is a master`);
  });

  t.test('aborted halfway through `up`, the start takes down what it made and rejects', async (t) => {
    // The first project is done with: two at once would share the two cores.
    await deployment.stop();
    const abort = new AbortController();
    let project: string | undefined;
    const abortingLog = (msg: string) => {
      t.comment(msg);
      project ??= /^compose up: project (\S+),/.exec(msg)?.[1];
      // The first progress line: `up` runs.
      if (PROGRESS.test(msg)) abort.abort();
    };
    await t.rejects(startComposeDeployment(benchComposeOptions(abortingLog, abort.signal)), { name: 'AbortError' });
    t.ok(project, `the project was named (${project})`);
    if (!project) return;
    t.same(await projectContainers(project), [], 'no container of it is left');
    const label = `label=com.docker.compose.project=${project}`;
    t.equal(await docker(['volume', 'ls', '--quiet', '--filter', label]), '', 'no volume of it is left');
    t.equal(await docker(['network', 'ls', '--quiet', '--filter', label]), '', 'no network of it is left');
  });
}
