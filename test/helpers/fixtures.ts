import { rm } from 'node:fs/promises';
import type { Test } from 'tap';
import { jsonRequest, type JsonAnswer } from '../../stack/helpers/http.js';
import { findProgram } from '../../stack/helpers/packages.js';
import { freePorts } from '../../stack/helpers/ports.js';
import { makeTempDir } from '../../stack/helpers/temporary.js';
import { waitFor } from '../../stack/helpers/wait.js';

/** What every kind of test needs: free ports, a temp folder kept on failure, programs, polling, HTTP. */

export { freePorts, waitFor };

/**
 * On teardown, stops what runs from dir (stopFirst), then removes dir; a failed test keeps it, with its
 * logs, for whoever reads the failure.
 */
export function removeUnlessFailed(t: Test, dir: string, stopFirst: () => Promise<unknown>): void {
  t.teardown(async () => {
    await stopFirst();
    if (t.passing()) await rm(dir, { recursive: true, force: true });
    else t.comment(`kept the state and logs in ${dir}`);
  });
}

/** A fresh temp folder (evergreen-<purpose>-*), removed on teardown after stopFirst unless the test failed. */
export async function tempDir(t: Test, purpose: string, stopFirst: () => Promise<unknown>): Promise<string> {
  const dir = await makeTempDir(purpose);
  removeUnlessFailed(t, dir, stopFirst);
  return dir;
}

/** The absolute path of an installed program; fails the test's setup, saying how to get it, if it is missing. */
export async function installedProgram(program: string): Promise<string> {
  const found = await findProgram(program);
  if (!found) throw new Error(`${program} is not installed (npm start installs it)`);
  return found;
}

/**
 * Polls `read` until `settled` holds (at most `timeoutMs`) and returns the last value, so a test asserts what
 * the system converges to (catalog reads come from a replica, which may trail the master by a moment).
 */
export async function eventually<T>(read: () => Promise<T>, settled: (value: T) => boolean, timeoutMs = 2000) {
  let last: { value: T } | undefined;
  try {
    return await waitFor('a settled value', timeoutMs, async () => {
      last = { value: await read() };
      if (!settled(last.value)) throw new Error(`not settled: ${JSON.stringify(last.value)?.slice(0, 200)}`);
      return last.value;
    });
  } catch (err) {
    if (!last) throw err;
    return last.value;
  }
}

export type HttpResult = JsonAnswer;

/** One JSON request to base + url over a real socket (NGINX, a stack's API instance). */
export function call(
  base: string,
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return jsonRequest(base, method, url, { ...opts, timeoutMs: 15_000 });
}
