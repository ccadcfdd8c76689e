import { mkdir } from 'node:fs/promises';
import { ensureBuilt } from '../helpers/build.js';
import type { StackConfig } from '../config.js';
import { stateLayout } from '../layout.js';
import { ensureSystemPackages } from '../helpers/packages.js';
import { seedDemoCatalog } from '../helpers/seed.js';
import { LocalStack } from '../stack.js';
import { monitoringPorts, removeRecord, runningStack, writeRecord, type StackRecord } from '../helpers/state.js';
import { onStopSignal } from '../supervisor/orphans.js';
import { printSummary } from '../helpers/summary.js';

/**
 * `npm start` (and the background process of `npm run up`): sets up what is missing, starts the whole
 * stack, prints where everything is, then stays until a signal stops everything in order.
 * Resolves with the exit code when start-up fails; exits the process itself once stopped.
 */
export async function launchStack(config: StackConfig, background: boolean): Promise<number> {
  const startedAt = Date.now();
  const log = (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${msg}`);

  const other = await runningStack(config.dir);
  if (other) {
    const how = '`npm run status` shows it, `npm run down` stops it.';
    throw new Error(`A stack already runs from ${config.dir} (launcher pid ${other.pid}): ${how}`);
  }
  log(`Evergreen local stack, state in ${config.dir}`);
  await mkdir(config.dir, { recursive: true, mode: 0o700 }); // it will hold data, logs and secrets
  const programs = await ensureSystemPackages(log);
  log(`system packages present: ${Object.values(programs).join(', ')}`);
  log('checking dist/ against src/');
  log((await ensureBuilt()) ? 'built dist/ (npm run build)' : 'dist/ is up to date');

  const stack = new LocalStack(config, { nginx: programs.nginx, log });
  const record = (phase: StackRecord['phase']): StackRecord => ({
    pid: process.pid,
    startedAt: new Date(startedAt).toISOString(),
    phase,
    log: background ? stateLayout(config.dir).launcherLog : undefined,
    // Ports only: the config also holds secrets.
    ports: {
      httpPort: config.httpPort,
      statusPort: config.statusPort,
      apiPorts: config.apiPorts,
      redisPorts: config.redisPorts,
      sentinelPorts: config.sentinelPorts,
      monitoring: monitoringPorts(config),
      // The port it took (a throwaway stack's is a free one), once its tier has started.
      supervisorPort: stack.procs.supervisor ? Number(new URL(stack.procs.supervisor.url).port) : config.supervisorPort,
    },
    processes: stack.processes().flatMap(({ name, pid, log }) => (pid === undefined ? [] : [{ name, pid, log }])),
  });
  let stopping: Promise<never> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      log(`${signal}: stopping NGINX, the API instances, the Sentinels, then Redis`);
      const stoppingAt = Date.now();
      await stack.stop();
      await removeRecord(config.dir);
      const seconds = ((Date.now() - stoppingAt) / 1000).toFixed(1);
      log(`stopped cleanly in ${seconds} s; data kept in ${config.dir} for the next start`);
      process.exit(0);
    })();
  };
  onStopSignal(stop);

  await writeRecord(config.dir, record('starting'));
  try {
    await stack.start();
    const seeded = await seedDemoCatalog(stack.publicUrl, stack.credentials.admin);
    await printSummary(stack, { seconds: (Date.now() - startedAt) / 1000, seeded, background });
    // Written after the summary: `npm run up` prints the log up to here once it sees "ready".
    await writeRecord(config.dir, record('ready'));
  } catch (err) {
    if (stopping) return stopping;
    log(`start-up failed: ${err instanceof Error ? err.message : String(err)}`);
    await stack.stop();
    await removeRecord(config.dir);
    return 1;
  }
  // The launcher stays until a signal stops everything; crashes are reported meanwhile.
  setInterval(() => {}, 2 ** 30);
  return new Promise<number>(() => {});
}
