import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../build.js';
import { installMissing, ensureSystemPackages } from '../packages.js';
import { LocalStack } from '../stack.js';
import { leaveSignalsToProgram } from '../supervisor/orphans.js';
import { temporaryStackConfig } from '../temporary.js';
import { renderBench, runBench, type BenchReport } from './bench.js';
import { REDIS_CEILING } from './redis-ceiling.js';
import { BENCH_NGINX_LOCATIONS, SCENARIOS } from './scenarios.js';
import { localTarget } from './target.js';

const ALL_SCENARIOS = [...SCENARIOS.map((s) => s.name), REDIS_CEILING];

export const BENCH_USAGE = `usage: npm run bench -- [options]
  --scenario NAME[,NAME]  ${ALL_SCENARIOS.join(', ')} (default: all)
  --duration SECONDS      each scenario's length (default 10)
  --connections N         wrk's connections (default 50)
  --json FILE             also write the results as JSON
  --target local          a stack of its own, from the built dist/ (the only target so far)`;

/**
 * \`npm run bench\`: a LocalStack of its own (free ports, temp folder, limits no benchmark reaches), seeded
 * through the API, then each scenario under wrk, its ceilings measured in the same run; a markdown table.
 */
export async function benchCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      scenario: { type: 'string' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      json: { type: 'string' },
      target: { type: 'string', default: 'local' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  const scenarios = values.scenario?.split(',') ?? ALL_SCENARIOS;
  const unknown = scenarios.filter((name) => !ALL_SCENARIOS.includes(name));
  const durationSeconds = Number(values.duration);
  const connections = Number(values.connections);
  if (unknown.length > 0 || !(durationSeconds >= 1) || !(connections >= 1) || values.target !== 'local') {
    console.error(`bad options${unknown.length ? `: unknown ${unknown.join(', ')}` : ''}\n${BENCH_USAGE}`);
    return 2;
  }
  const startedAt = Date.now();
  const log = (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
  const programs = await ensureSystemPackages(log);
  await installMissing([{ program: 'wrk', pkg: 'wrk' }], log);
  log((await ensureBuilt()) ? 'built dist/ (npm run build)' : 'dist/ is up to date');
  const config = await temporaryStackConfig('bench', {
    downAfterMs: 5000,
    failoverTimeoutMs: 10_000,
    admin: { username: 'bench-admin', password: randomBytes(12).toString('hex') },
    apiRunner: 'dist',
    // Limits no benchmark reaches; the log level of a default deployment (one line per request).
    apiEnv: { NODE_ENV: 'production', RATE_LIMIT_MAX: '100000000', LOGIN_RATE_LIMIT_MAX: '100000000' },
    nginxExtraLocations: BENCH_NGINX_LOCATIONS,
  });
  const stack = new LocalStack(config, { nginx: programs.nginx, log: (msg) => log(`  ${msg}`) });
  leaveSignalsToProgram();
  process.once('SIGINT', () => void stack.stop().then(() => process.exit(130)));
  try {
    await stack.start();
    const options = { scenarios, durationSeconds, connections, hotStock: 1000 };
    const results = await runBench(localTarget(stack), options, config.dir, log);
    const report: BenchReport = {
      machine: { cpus: os.availableParallelism(), node: process.version },
      connections,
      durationSeconds,
      results,
    };
    console.log(`\n${renderBench(report)}\n`);
    if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await stack.stop();
    await rm(config.dir, { recursive: true, force: true });
  }
  return 0;
}
