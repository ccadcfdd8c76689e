import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findProgram, installMissing } from '../helpers/packages.js';
import { waitFor } from '../helpers/wait.js';
import { assertDockerReachable } from './docker-cli.js';

/** What running Compose for real needs: Debian's engine and Compose v1, and debootstrap for the stand-in images. */
export const COMPOSE_PACKAGES = [
  { program: 'dockerd', pkg: 'docker.io' },
  { program: 'docker-compose', pkg: 'docker-compose' },
  { program: 'debootstrap', pkg: 'debootstrap' },
] as const;

const ENGINE_START_TIMEOUT_MS = 60_000;

/** Whether an engine answers on the default socket (through Debian's client, as every docker call here). */
export async function engineAnswers(): Promise<boolean> {
  return assertDockerReachable().then(
    () => true,
    () => false,
  );
}

export interface Engine {
  /** dockerd's pid when this process started it (stopEngine(pid) stops it); undefined when one already ran. */
  startedPid: number | undefined;
}

/**
 * A Docker engine to run Compose on: the one that answers, or — as root — Debian's packages installed and
 * dockerd started in the background, left running (stopEngine stops it). Without root and without an engine it
 * fails, saying what to run.
 */
export async function ensureEngine(log: (msg: string) => void): Promise<Engine> {
  const running: Engine = { startedPid: undefined };
  if (process.getuid?.() === 0) await installMissing(COMPOSE_PACKAGES, log);
  if (await engineAnswers()) return running;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'No Docker engine answers and this is not root, so none can be started here. Start one ' +
        '(sudo apt-get install docker.io && sudo dockerd &), or run as root.',
    );
  }
  const dockerd = await findProgram('dockerd');
  if (!dockerd) throw new Error('dockerd is not installed (apt-get install docker.io)');
  const logFile = path.join(os.tmpdir(), `evergreen-dockerd-${process.pid}.log`);
  const out = openSync(logFile, 'a');
  // Its own process group, and not waited for: it outlives this process until stopEngine.
  const child = spawn(dockerd, [], { stdio: ['ignore', out, out], detached: true });
  child.unref();
  closeSync(out);
  log(`started dockerd (pid ${child.pid}, log ${logFile})`);
  await waitFor('the Docker engine', ENGINE_START_TIMEOUT_MS, async () => {
    if (!(await engineAnswers())) throw new Error(`dockerd does not answer yet (log: ${logFile})`);
  });
  return { startedPid: child.pid };
}

/** Stops a dockerd that ensureEngine started: SIGTERM (it stops its containers), then waits for it to be gone. */
export async function stopEngine(pid: number, log: (msg: string) => void): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  await waitFor('dockerd to stop', 30_000, async () => {
    if (alive()) throw new Error(`dockerd (pid ${pid}) still runs`);
  }).catch(() => process.kill(pid, 'SIGKILL'));
  log(`stopped dockerd (pid ${pid})`);
}
