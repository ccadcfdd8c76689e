import { setTimeout as sleep } from 'node:timers/promises';
import type { StackConfig } from '../config.js';
import { isAlive, removeRecord, runningStack, straysIn } from '../helpers/state.js';

const POLL_MS = 200;
const DOWN_TIMEOUT_MS = 60_000;

/** `npm run down`: asks the launcher to stop everything in order and waits for it. */
export async function down(config: StackConfig): Promise<number> {
  const record = await runningStack(config.dir);
  if (!record) return stopStrays(config.dir);
  const stoppingAt = Date.now();
  console.log(`Stopping the stack in ${config.dir} (launcher pid ${record.pid}) ...`);
  process.kill(record.pid, 'SIGTERM');
  while (isAlive(record.pid)) {
    if (Date.now() - stoppingAt > DOWN_TIMEOUT_MS) {
      console.error(
        `The launcher (pid ${record.pid}) is still stopping after ${DOWN_TIMEOUT_MS / 1000} s; ` +
          `see ${record.log ?? 'its terminal'}.`,
      );
      return 1;
    }
    await sleep(POLL_MS);
  }
  console.log(`Stopped in ${((Date.now() - stoppingAt) / 1000).toFixed(1)} s; data kept in ${config.dir}.`);
  return 0;
}

/** No launcher runs, but one may have died without stopping its processes (kill -9): stops those. */
async function stopStrays(dir: string): Promise<number> {
  const strays = await straysIn(dir);
  if (strays.length === 0) {
    console.log(`No stack runs from ${dir}.`);
    return 0;
  }
  for (const p of strays) process.kill(p.pid, 'SIGTERM');
  const deadline = Date.now() + DOWN_TIMEOUT_MS;
  while (strays.some((p) => isAlive(p.pid)) && Date.now() < deadline) await sleep(POLL_MS);
  await removeRecord(dir);
  const left = strays.filter((p) => isAlive(p.pid));
  console.log(
    `No launcher runs from ${dir}; stopped what an earlier one left running: ` +
      `${strays.map((p) => `${p.program} (pid ${p.pid})`).join(', ')}.`,
  );
  if (left.length > 0) console.error(`Still running: ${left.map((p) => `pid ${p.pid}`).join(', ')}.`);
  return left.length > 0 ? 1 : 0;
}
