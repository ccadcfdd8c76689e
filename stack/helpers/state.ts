import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import type { MonitoringConfig, StackConfig } from '../config.js';
import { stateLayout } from '../layout.js';

/**
 * The running stack's record in its state folder, for `npm run down` and `npm run status`: who
 * supervises it, on which ports, and every process's pid and log.
 */
export interface StackRecord {
  /** The launcher (npm start, or the background process of npm run up). */
  pid: number;
  startedAt: string;
  phase: 'starting' | 'ready';
  /** Its output, when it runs in the background. */
  log: string | undefined;
  ports: Pick<StackConfig, 'httpPort' | 'statusPort' | 'apiPorts' | 'redisPorts' | 'sentinelPorts'> & {
    /** Absent when the stack runs without monitoring (or was started before it existed). */
    monitoring?: MonitoringPorts;
    /** The supervisor's endpoint (SUPERVISOR_PORT); absent in a record written before it existed. */
    supervisorPort?: number;
  };
  processes: { name: string; pid: number; log: string }[];
}

/** The monitoring ports, without the webhook URL (it may hold a token). */
export type MonitoringPorts = Omit<MonitoringConfig, 'webhookUrl'>;

export function monitoringPorts(config: StackConfig): MonitoringPorts | undefined {
  if (!config.monitoring) return undefined;
  const { webhookUrl: _, ...ports } = config.monitoring;
  return ports;
}

const recordFile = (dir: string) => stateLayout(dir).record;

export async function readRecord(dir: string): Promise<StackRecord | undefined> {
  const file = recordFile(dir);
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as StackRecord) : undefined;
}

export const writeRecord = (dir: string, record: StackRecord) =>
  writeFile(recordFile(dir), `${JSON.stringify(record, null, 2)}\n`);

export const removeRecord = (dir: string) => rm(recordFile(dir), { force: true });

/** Whether pid runs (a zombie, dead but not yet reaped by its new parent, does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (name) state ...": Z is a zombie.
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no /proc: trust the signal
  }
}

/** The record of a stack that runs now from dir, if any (a record whose launcher is gone is stale). */
export async function runningStack(dir: string): Promise<StackRecord | undefined> {
  const record = await readRecord(dir);
  return record && isAlive(record.pid) ? record : undefined;
}

// As /proc/<pid>/comm names them.
const STACK_PROGRAMS = new Set(['redis-server', 'redis-sentinel', 'nginx', 'node']);

/** The stack's programs still running from dir: each works in its own folder there. */
export async function straysIn(dir: string): Promise<{ pid: number; program: string }[]> {
  const strays = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const program = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
    if (cwd.startsWith(`${dir}/`) && STACK_PROGRAMS.has(program) && isAlive(pid)) strays.push({ pid, program });
  }
  return strays;
}
