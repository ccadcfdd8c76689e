import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { ensureBuilt } from '../../stack/helpers/build.js';
import { drillPage } from '../pictures/drill-page.js';
import type { StackConfig } from '../../stack/config.js';
import { onStopSignal, signalExitCode } from '../../stack/supervisor/orphans.js';
import { ensureSystemPackages } from '../../stack/helpers/packages.js';
import { LocalStack } from '../../stack/stack.js';
import { temporaryStackConfig } from '../../stack/helpers/temporary.js';
import { stateLayout } from '../../stack/layout.js';
import { ComposeDeployment } from '../deployment/compose.js';
import { startComposeDeployment } from '../deployment/compose-start.js';
import type { Deployment } from '../deployment/deployment.js';
import { LocalDeployment } from '../deployment/local.js';
import { SmallDisks } from '../deployment/local-disks.js';
import { startSwarmDeployment, SwarmDeployment } from '../deployment/swarm.js';
import { runDrill } from './drill.js';
import { refusedFaults } from './faults.js';
import {
  DRILL_USAGE,
  DrillUsageError,
  faultSequence,
  parseDrillArgs,
  RESOURCE_FAULT_NAMES,
  type DrillCommand,
} from './options.js';
import { renderMarkdown } from './report.js';

// Limits that a drill's stream of requests never reaches, and quiet logs. The live stock stream keeps a soak's
// every event (20 cycles write ~250,000), so invariant 5 can count one per change.
export const DRILL_API_ENV = {
  LOG_LEVEL: 'warn',
  RATE_LIMIT_MAX: '1000000',
  LOGIN_RATE_LIMIT_MAX: '10000',
  STOCK_EVENTS_MAXLEN: '2000000',
};

/**
 * `npm run drill`: a deployment of its own — a LocalStack (fresh temp folder, free ports below 32768, its own
 * secrets), a Compose project (its own name, port, secrets and volumes), or a swarm (its own nodes) — so a
 * developer's running system is never touched; the drill; the report. Resolves with the exit code.
 */
export async function drillCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(DRILL_USAGE);
    return 0;
  }
  let command;
  try {
    command = parseDrillArgs(args);
    const capabilities = { compose: ComposeDeployment.CAPABILITIES, swarm: SwarmDeployment.CAPABILITIES }[
      command.target as 'compose' | 'swarm'
    ];
    const kind = { kind: command.target, capabilities };
    const refused = capabilities ? refusedFaults(kind, faultSequence(command.options)) : [];
    if (refused.length > 0) throw new DrillUsageError(`--target ${command.target}: ${refused.join('; ')}`);
  } catch (err) {
    if (!(err instanceof DrillUsageError)) throw err;
    console.error(`${err.message}\n${DRILL_USAGE}`);
    return 2;
  }
  const startedAt = Date.now();
  const log = (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
  if (command.target === 'swarm') return swarmDrill(command, log);
  return command.target === 'compose' ? composeDrill(command, log) : localDrill(command, log);
}

async function localDrill(command: DrillCommand, log: (msg: string) => void): Promise<number> {
  const programs = await ensureSystemPackages(log);
  log((await ensureBuilt()) ? 'built dist/ (npm run build)' : 'dist/ is up to date');
  const faults = faultSequence(command.options);
  const drawn = (names: readonly string[]) => faults.some((f) => f === 'mixed' || names.includes(f));
  // The resource faults are judged by the alerts they raise: the stack runs its Prometheus for them.
  const config = await drillStackConfig(command.downAfterMs, command.failoverTimeoutMs, drawn(RESOURCE_FAULT_NAMES));
  const stackOptions = { nginx: programs.nginx, log: (msg: string) => log(`  ${msg}`) };
  const stack = new LocalStack(config, stackOptions);
  // restart-stack replaces the stack: whatever runs at the end is the LocalDeployment's to stop.
  const target = new LocalDeployment(stack, stackOptions);
  const disks = drawn(['disk-full']) ? await smallDisks(config, log) : undefined;
  if (disks) target.attachDisks(disks);
  // Ctrl-C (or a timeout's SIGTERM) stops the drill's stack in order rather than leaving its processes behind.
  onStopSignal((signal) => {
    log(`${signal}: stopping the drill stack; its state and logs stay in ${config.dir}`);
    void target.stop().then(() => process.exit(signalExitCode(signal)));
  });
  log(`drill stack in ${config.dir}, NGINX on ${stack.publicUrl}`);
  let passed = false;
  try {
    await stack.start();
    passed = await drillAndReport(command, target, log);
  } finally {
    await target.stop();
    await disks?.unmount({ keep: !passed || command.keep });
    if (passed && !command.keep) await rm(config.dir, { recursive: true, force: true });
    else log(`kept the drill stack's state and logs in ${config.dir}`);
  }
  return passed ? 0 : 1;
}

async function composeDrill(command: DrillCommand, log: (msg: string) => void): Promise<number> {
  const { downAfterMs, failoverTimeoutMs, keep } = command;
  // A signal while the project starts aborts the start (which takes down what it made); later, the drill.
  const starting = new AbortController();
  let started: ComposeDeployment | undefined;
  let stoppedBy: NodeJS.Signals | undefined;
  onStopSignal((signal) => {
    log(`${signal}: taking the drill project down`);
    stoppedBy ??= signal;
    if (started) void started.stop().then(() => process.exit(signalExitCode(signal)));
    else starting.abort(new Error(`${signal} while the drill project started`));
  });
  const deployment = await startComposeDeployment({
    purpose: 'drill',
    downAfterMs,
    failoverTimeoutMs,
    keep,
    log,
    apiEnv: DRILL_API_ENV,
    signal: starting.signal,
  }).catch((err: Error) => {
    if (stoppedBy) return undefined; // the start took down what it made
    throw err;
  });
  if (!deployment) return signalExitCode(stoppedBy ?? 'SIGINT');
  started = deployment;
  let passed = false;
  try {
    passed = await drillAndReport(command, deployment, log);
  } finally {
    await deployment.stop();
  }
  return passed ? 0 : 1;
}

async function swarmDrill(command: DrillCommand, log: (msg: string) => void): Promise<number> {
  const { downAfterMs, failoverTimeoutMs, keep } = command;
  const apiEnv = DRILL_API_ENV;
  const deployment = await startSwarmDeployment({
    purpose: 'drill',
    nodes: 3,
    downAfterMs,
    failoverTimeoutMs,
    apiEnv,
    keep,
    log,
  });
  onStopSignal((signal) => {
    log(`${signal}: removing the drill swarm`);
    void deployment.stop().then(() => process.exit(signalExitCode(signal)));
  });
  let passed = false;
  try {
    passed = await drillAndReport(command, deployment, log);
  } finally {
    await deployment.stop();
  }
  return passed ? 0 : 1;
}

/** The drill on a started deployment, its report printed (and written as JSON, or as a page, when asked); passed? */
async function drillAndReport(command: DrillCommand, deployment: Deployment, log: (msg: string) => void) {
  const report = await runDrill(command.options, deployment, log);
  console.log(`\n${renderMarkdown(report)}`);
  if (command.json) {
    await writeFile(command.json, `${JSON.stringify(report, null, 2)}\n`);
    log(`report written to ${command.json}`);
  }
  if (command.html) {
    await writeFile(command.html, await drillPage(report));
    log(`report page written to ${command.html}`);
  }
  return report.passed;
}

/** The built API, quiet logs, limits that a drill's stream of requests never reaches. */
/** Large enough for a long soak's files between AOF rewrites; a tmpfs takes memory only for what it holds. */
const AOF_DISK_BYTES = 512 * 1024 * 1024;

/**
 * Each node's folder on a small filesystem of its own (disk-full fills the master's); undefined, said
 * why, where it cannot be mounted (not root): a named disk-full is then refused, mixed draws none.
 */
async function smallDisks(config: StackConfig, log: (msg: string) => void): Promise<SmallDisks | undefined> {
  const layout = stateLayout(config.dir);
  const nodes = new Map(config.redisPorts.map((port) => [`redis-${port}`, layout.redis(port).dir]));
  try {
    const disks = await SmallDisks.mount(nodes, AOF_DISK_BYTES);
    log(`each Redis node's folder on a tmpfs of ${AOF_DISK_BYTES / 2 ** 20} MiB (disk-full fills the master's)`);
    return disks;
  } catch (err) {
    log(`no disk-full in this drill: ${(err as Error).message}`);
    return undefined;
  }
}

function drillStackConfig(downAfterMs: number, failoverTimeoutMs: number, monitoring: boolean): Promise<StackConfig> {
  const secret = randomBytes(12).toString('hex');
  return temporaryStackConfig('drill', {
    monitoring,
    downAfterMs,
    failoverTimeoutMs,
    admin: { username: 'drill-admin', password: secret },
    apiRunner: 'dist',
    apiEnv: { ...DRILL_API_ENV, BCRYPT_COST: '4' },
  });
}
