import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { ensureBuilt } from '../../stack/helpers/build.js';
import { installMissing, ensureSystemPackages } from '../../stack/helpers/packages.js';
import { freePorts } from '../../stack/helpers/ports.js';
import { repoRoot } from '../../stack/layout.js';
import { LocalStack } from '../../stack/stack.js';
import { onStopSignal, signalExitCode } from '../../stack/supervisor/orphans.js';
import { makeTempDir, temporaryStackConfig } from '../../stack/helpers/temporary.js';
import type { ComposeDeployment } from '../deployment/compose.js';
import { startComposeDeployment, type ComposeStartOptions } from '../deployment/compose-start.js';
import type { DeploymentView } from '../deployment/deployment.js';
import { LocalDeployment } from '../deployment/local.js';
import { benchPage } from '../pictures/bench-page.js';
import { renderBench, runBench, type BenchReport } from './bench.js';
import { ApiProfiler, profileEach, type InspectedInstance } from './profile.js';
import { renderProfiles, type ProfileSummary } from './profile-summary.js';
import { REDIS_CEILING } from './redis-ceiling.js';
import { BENCH_NGINX_LOCATIONS, SCENARIOS } from './scenarios.js';

const ALL_SCENARIOS = [...SCENARIOS.map((s) => s.name), REDIS_CEILING];
const TARGETS = ['local', 'compose'];
const CLIENT_CACHE = ['on', 'off'];

export const BENCH_USAGE = `usage: npm run bench -- [options]
  --scenario NAME[,NAME]  ${ALL_SCENARIOS.join(', ')} (default: all)
  --duration SECONDS      each scenario's length (default 10)
  --connections N         wrk's connections (default 50)
  --json FILE             also write the results as JSON
  --html FILE             also write them as one HTML page: req/s beside the ceilings, p50 and p99 (no network needed)
  --scale-size N          products and purchases the scale scenario bulk-loads (default 1000000 each)
  --target local          a stack of its own, from the built dist/ (default)
  --target compose        compose.yml as a project of its own (free port, own secrets and subnet; no monitoring),
                          taken down with its volumes at the end; as root, Docker is installed and started if
                          missing (and stopped again)
  --profile DIR           (local) CPU profiles of both API instances per scenario, DIR/<scenario>-api-<n>.cpuprofile
                          for Chrome DevTools, summarized after the table (sampling costs a few % of throughput)
  --client-cache on|off   the API instances' client-side cache (their CLIENT_CACHE; default on), to compare a run
                          without it; --target compose only if compose.yml passes CLIENT_CACHE to the API services
                          (without the flag, compose then runs with the service's default)
Each row also has the Redis commands per request (INFO commandstats on every node: master + replicas, the top
commands) and the client cache's hit ratio (the instances' /metrics); both, by command and by kind, in --json.`;

/** Limits no benchmark reaches; the log level of a default deployment (one line per request). */
export const BENCH_API_ENV = { NODE_ENV: 'production', RATE_LIMIT_MAX: '100000000', LOGIN_RATE_LIMIT_MAX: '100000000' };
/** The Sentinels' timings, either kind: no benchmark fails over. */
const SENTINEL_TIMINGS = { downAfterMs: 5000, failoverTimeoutMs: 10_000 };

/** `--target compose`: the project the deployment module starts, with the benchmark's environment and route. */
export const benchComposeOptions = (
  log: (msg: string) => void,
  signal?: AbortSignal,
  apiEnv: Record<string, string> = BENCH_API_ENV,
): ComposeStartOptions => ({
  purpose: 'bench',
  ...SENTINEL_TIMINGS,
  apiEnv,
  nginxLocations: BENCH_NGINX_LOCATIONS,
  keep: false,
  log,
  signal,
});

/** A system to benchmark: started, then closed whatever happened (also halfway through start, on SIGINT). */
interface BenchSystem {
  /** Where wrk's scripts go; removed by close(). */
  dir: string;
  start(): Promise<DeploymentView>;
  /** The API instances' inspectors, when asked for profiles. */
  inspected?: InspectedInstance[];
  close(): Promise<void>;
}

/**
 * \`npm run bench\`: a system of its own (a LocalStack, or compose.yml as a project of its own) with limits no
 * benchmark reaches, seeded through the API, then each scenario under wrk, its ceilings measured in the same
 * run; a markdown table, and with --profile the API instances' CPU profiles per scenario.
 */
export async function benchCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      scenario: { type: 'string' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      json: { type: 'string' },
      html: { type: 'string' },
      target: { type: 'string', default: 'local' },
      profile: { type: 'string' },
      'scale-size': { type: 'string' },
      'client-cache': { type: 'string' },
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
  const scaleSize = values['scale-size'] === undefined ? undefined : Number(values['scale-size']);
  const profileDir = values.profile === undefined ? undefined : path.resolve(values.profile);
  const cacheFlag = values['client-cache'];
  // Compose: only through a variable compose.yml passes on to the API services (as it does RATE_LIMIT_MAX).
  const cacheSettable = values.target !== 'compose' || (await composePassesToApis('CLIENT_CACHE'));
  const clientCache = cacheSettable ? ((cacheFlag ?? 'on') as 'on' | 'off') : undefined;
  const problems = [
    ...(unknown.length ? [`unknown scenario ${unknown.join(', ')}`] : []),
    ...(durationSeconds >= 1 && connections >= 1 ? [] : ['--duration and --connections must be 1 or more']),
    ...(scaleSize === undefined || (Number.isInteger(scaleSize) && scaleSize >= 1)
      ? []
      : ['--scale-size must be a whole number, 1 or more']),
    ...(TARGETS.includes(values.target) ? [] : [`unknown target ${values.target}`]),
    ...(profileDir && values.target !== 'local' ? ['--profile needs --target local'] : []),
    ...(cacheFlag === undefined || CLIENT_CACHE.includes(cacheFlag) ? [] : ['--client-cache must be on or off']),
    ...(cacheFlag !== undefined && !cacheSettable
      ? [
          '--client-cache cannot reach the Compose API services: compose.yml passes them no CLIENT_CACHE ' +
            '(use --target local, or run without the flag for the service default)',
        ]
      : []),
  ];
  if (problems.length > 0) {
    console.error(`bad options: ${problems.join('; ')}\n${BENCH_USAGE}`);
    return 2;
  }
  const startedAt = Date.now();
  const log = (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
  await installMissing(
    [
      { program: 'wrk', pkg: 'wrk' },
      { program: 'redis-benchmark', pkg: 'redis-tools' },
    ],
    log,
  );
  const apiEnv = { ...BENCH_API_ENV, ...(clientCache ? { CLIENT_CACHE: clientCache } : {}) };
  const system =
    values.target === 'compose' ? await composeSystem(log, apiEnv) : await localSystem(log, !!profileDir, apiEnv);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= system.close());
  onStopSignal((signal) => {
    log(`${signal}: tearing down`);
    void close().then(() => process.exit(signalExitCode(signal)));
  });
  try {
    const deployment = await system.start();
    const profiler =
      profileDir && system.inspected ? await ApiProfiler.connect(system.inspected, profileDir) : undefined;
    const options = {
      scenarios,
      durationSeconds,
      connections,
      hotStock: 1000,
      ...(scaleSize ? { scaleProducts: scaleSize, scalePurchases: scaleSize } : {}),
      ...(profiler ? { aroundScenario: profileEach(profiler) } : {}),
    };
    let results;
    try {
      results = await runBench(deployment, options, system.dir, log);
    } finally {
      await profiler?.close();
    }
    const profiles: ProfileSummary[] | undefined = profiler?.summaries;
    const report: BenchReport = {
      machine: { cpus: os.availableParallelism(), node: process.version },
      connections,
      durationSeconds,
      ...(clientCache ? { clientCache } : {}),
      results,
    };
    console.log(`\n${renderBench(report)}\n`);
    if (profiles && profileDir) console.log(`${renderProfiles(profiles, profileDir)}\n`);
    const json = { target: deployment.kind, ...report, ...(profiles ? { profiles } : {}) };
    if (values.json) await writeFile(values.json, `${JSON.stringify(json, null, 2)}\n`);
    if (values.html) await writeFile(values.html, await benchPage(report));
  } finally {
    await close();
  }
  log('done');
  return 0;
}

/** A LocalStack of its own from the built dist/; with profiles, each API instance with an inspector port. */
async function localSystem(
  log: (msg: string) => void,
  profiled: boolean,
  apiEnv: Record<string, string>,
): Promise<BenchSystem> {
  const programs = await ensureSystemPackages(log);
  log((await ensureBuilt()) ? 'built dist/ (npm run build)' : 'dist/ is up to date');
  const inspectPorts = profiled ? await freePorts(2) : undefined;
  const config = await temporaryStackConfig('bench', {
    ...SENTINEL_TIMINGS,
    admin: { username: 'bench-admin', password: randomBytes(12).toString('hex') },
    apiRunner: 'dist',
    apiEnv,
    nginxExtraLocations: BENCH_NGINX_LOCATIONS,
    apiInspectPorts: inspectPorts,
  });
  const stack = new LocalStack(config, { nginx: programs.nginx, log: (msg) => log(`  ${msg}`) });
  return {
    dir: config.dir,
    inspected: inspectPorts?.map((port, i) => ({ name: `api-${i + 1}`, host: config.host, port })),
    start: async () => {
      await stack.start();
      return new LocalDeployment(stack);
    },
    close: async () => {
      await stack.stop();
      await rm(config.dir, { recursive: true, force: true });
    },
  };
}

/**
 * compose.yml as the benchmark's own project (the deployment module's), wrk's scripts in a temp folder. close()
 * halfway through start aborts it: the start then takes down what it made, once a running `up` has ended.
 */
async function composeSystem(log: (msg: string) => void, apiEnv: Record<string, string>): Promise<BenchSystem> {
  const dir = await makeTempDir('bench-compose');
  const abort = new AbortController();
  let starting: Promise<ComposeDeployment> | undefined;
  return {
    dir,
    start: () => (starting = startComposeDeployment(benchComposeOptions(log, abort.signal, apiEnv))),
    close: async () => {
      abort.abort();
      // Undefined when the start failed or was aborted: it took down what it made itself.
      const deployment = await starting?.catch(() => undefined);
      await deployment?.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether every API service of compose.yml takes `variable` from the project's environment (`${VARIABLE…}`). */
async function composePassesToApis(variable: string): Promise<boolean> {
  const compose = parse(await readFile(path.join(repoRoot, 'compose.yml'), 'utf8'), { merge: true }) as {
    services?: Record<string, { environment?: Record<string, unknown> | string[] }>;
  };
  const apis = Object.entries(compose.services ?? {}).filter(([name]) => /^api-\d+$/.test(name));
  return (
    apis.length > 0 &&
    apis.every(([, service]) => {
      const env = service.environment ?? {};
      const value = Array.isArray(env)
        ? env.find((line) => line.startsWith(`${variable}=`))
        : env[variable] === undefined
          ? undefined
          : String(env[variable]);
      return value?.includes(`\${${variable}`) ?? false;
    })
  );
}
