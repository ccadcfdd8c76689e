import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const REPORT_LUA = fileURLToPath(new URL('report.lua', import.meta.url));

/** What one wrk run measured. */
export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Socket errors: connect, read, write, timeout. */
  errors: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  /** CPU the load generator itself used (user + system), in seconds. */
  generatorCpuSeconds: number;
}

export interface WrkRun {
  url: string;
  /** Lua that defines request() (or nothing, for a plain GET of url). */
  requestLua: string;
  connections: number;
  durationSeconds: number;
  /** Where the generated script is written. */
  dir: string;
  name: string;
}

/**
 * Runs wrk (Debian's: ~10 µs of CPU a request, so it leaves the cores to the system under test) with one thread
 * per two connections' worth of work on this machine: one thread, as there are only two cores to share.
 */
export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const script = path.join(run.dir, `${run.name}.lua`);
  await writeFile(script, `${run.requestLua}\n${await readFile(REPORT_LUA, 'utf8')}`);
  const args = ['-t1', `-c${run.connections}`, `-d${run.durationSeconds}s`, '--timeout', '5s', '-s', script, run.url];
  // `times` after wrk: the shell's children's CPU, i.e. wrk's own.
  const { stdout } = await execa('sh', ['-c', 'wrk "$@" && times', 'wrk', ...args], { timeout: 120_000 });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const raw = JSON.parse(line.slice('BENCH '.length)) as {
    requests: number;
    duration_us: number;
    p50_us: number;
    p99_us: number;
    max_us: number;
    errors: Record<string, number>;
    statuses: Record<string, number>;
  };
  const seconds = raw.duration_us / 1e6;
  return {
    requests: raw.requests,
    seconds,
    rps: raw.requests / seconds,
    p50Ms: raw.p50_us / 1000,
    p99Ms: raw.p99_us / 1000,
    maxMs: raw.max_us / 1000,
    errors: Object.values(raw.errors).reduce((a, b) => a + b, 0),
    statuses: raw.statuses,
    generatorCpuSeconds: childCpu(stdout),
  };
}

/** The second line `times` prints is the children's user and system time, e.g. `0m1.20s 0m3.40s`. */
function childCpu(stdout: string): number {
  const lines = stdout.trim().split('\n');
  const children = lines.at(-1) ?? '';
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return seconds.reduce((a, b) => a + b, 0);
}
