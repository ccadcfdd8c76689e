import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { ensureBuilt } from '../../stack/build.js';
import type { StackConfig } from '../../stack/config.js';
import { leaveSignalsToProgram } from '../../stack/supervisor/orphans.js';
import { ensureSystemPackages } from '../../stack/packages.js';
import { LocalStack } from '../../stack/stack.js';
import { temporaryStackConfig } from '../../stack/temporary.js';
import { LocalDeployment } from '../deployment/local.js';
import { runDrill } from './drill.js';
import { DRILL_USAGE, DrillUsageError, parseDrillArgs } from './options.js';
import { renderMarkdown } from './report.js';

/**
 * `npm run drill`: a LocalStack of its own (fresh temp folder, free ports below 32768, its own secrets), so a
 * developer's running stack is never touched; the drill; the report. Resolves with the exit code.
 */
export async function drillCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(DRILL_USAGE);
    return 0;
  }
  let command;
  try {
    command = parseDrillArgs(args);
  } catch (err) {
    if (!(err instanceof DrillUsageError)) throw err;
    console.error(`${err.message}\n${DRILL_USAGE}`);
    return 2;
  }
  const startedAt = Date.now();
  const log = (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
  const programs = await ensureSystemPackages(log);
  log((await ensureBuilt()) ? 'built dist/ (npm run build)' : 'dist/ is up to date');
  const config = await drillStackConfig(command.downAfterMs, command.failoverTimeoutMs);
  const stackOptions = { nginx: programs.nginx, log: (msg: string) => log(`  ${msg}`) };
  const stack = new LocalStack(config, stackOptions);
  // restart-stack replaces the stack: whatever runs at the end is the LocalDeployment's to stop.
  const target = new LocalDeployment(stack, stackOptions);
  // Ctrl-C stops the drill's stack in order rather than leaving its processes to a blanket SIGTERM.
  leaveSignalsToProgram();
  process.once('SIGINT', () => {
    log(`SIGINT: stopping the drill stack; its state and logs stay in ${config.dir}`);
    void target.stop().then(() => process.exit(130));
  });
  log(`drill stack in ${config.dir}, NGINX on ${stack.publicUrl}`);
  let passed = false;
  try {
    await stack.start();
    const report = await runDrill(command.options, target, log);
    passed = report.passed;
    console.log(`\n${renderMarkdown(report)}`);
    if (command.json) {
      await writeFile(command.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`report written to ${command.json}`);
    }
  } finally {
    await target.stop();
    if (passed && !command.keep) await rm(config.dir, { recursive: true, force: true });
    else log(`kept the drill stack's state and logs in ${config.dir}`);
  }
  return passed ? 0 : 1;
}

/** The built API, quiet logs, limits that a drill's stream of requests never reaches. */
function drillStackConfig(downAfterMs: number, failoverTimeoutMs: number): Promise<StackConfig> {
  const secret = randomBytes(12).toString('hex');
  return temporaryStackConfig('drill', {
    downAfterMs,
    failoverTimeoutMs,
    admin: { username: 'drill-admin', password: secret },
    apiRunner: 'dist',
    apiEnv: { LOG_LEVEL: 'warn', BCRYPT_COST: '4', RATE_LIMIT_MAX: '1000000', LOGIN_RATE_LIMIT_MAX: '10000' },
  });
}
