import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { StackConfig } from '../config.js';
import { repoRoot, stateLayout } from '../layout.js';
import { readRecord, runningStack } from '../helpers/state.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const POLL_MS = 200;
// apt-get, a build and the start-up itself.
const UP_TIMEOUT_MS = 300_000;

/**
 * `npm run up`: the same launcher as `npm start`, detached, its output in STACK_DIR/stack.log. Shows
 * that output until the stack is ready (exit 0) or the launcher gave up (exit 1).
 */
export async function up(config: StackConfig): Promise<number> {
  const running = await runningStack(config.dir);
  if (running) {
    console.log(`A stack already runs from ${config.dir} (launcher pid ${running.pid}): \`npm run status\` shows it.`);
    return 0;
  }
  await mkdir(config.dir, { recursive: true, mode: 0o700 });
  const log = stateLayout(config.dir).launcherLog;
  const out = openSync(log, 'w');
  // Plain spawn: this process only hands the launcher over; it must outlive us and nobody supervises it.
  const launcher = spawn(process.execPath, [...process.execArgv, CLI, 'start', '--background'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited = false;
  launcher.once('exit', () => (exited = true));

  let shown = 0;
  const show = () => {
    const text = readFileSync(log, 'utf8');
    process.stdout.write(text.slice(shown));
    shown = text.length;
  };
  const deadline = Date.now() + UP_TIMEOUT_MS;
  for (;;) {
    await sleep(POLL_MS);
    show();
    const record = await readRecord(config.dir);
    if (record !== undefined && record.pid === launcher.pid && record.phase === 'ready') break;
    if (exited) {
      console.error(`The stack did not start; its launcher's log: ${log}`);
      return 1;
    }
    if (Date.now() > deadline) {
      console.error(
        `Still starting after ${UP_TIMEOUT_MS / 1000} s; it goes on in the background (log: ${log}). ` +
          '`npm run down` stops it.',
      );
      break;
    }
  }
  show();
  launcher.unref();
  console.log(`Running in the background (launcher pid ${launcher.pid}, log ${log}).`);
  return 0;
}
