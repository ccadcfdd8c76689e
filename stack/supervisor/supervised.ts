import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../wait.js';
import { DEFAULT_LOG_ROTATION, rotateIfFull, rotatingLog, type LogRotation } from './log-file.js';
import { tail } from './logs.js';
import { guardAgainstOrphans } from './orphans.js';

const DEFAULT_GRACE_MS = 12_000;
// How long a crash report waits for the last lines a process wrote before it died.
const LAST_WORDS_MS = 250;
// How often the logs a program writes itself are measured.
const OWN_LOGS_CHECK_MS = 5000;

/** One kind of process, as its file in processes/ describes it. */
export interface ProcessSpec {
  /** e.g. redis-6379, api-3001, nginx: named in every report. */
  name: string;
  command: string;
  args: string[];
  /** stderr is appended here, and stdout too unless outLog is given. */
  log: string;
  /** stdout, when it is a log of its own (the alert log's alerts.log). */
  outLog?: string;
  /** Logs it writes itself (NGINX's access log), rotated here by copy and truncation. */
  ownLogs?: string[];
  /**
   * stdout and stderr straight into `log` (no pipe through us), rotated like ownLogs: for a process that logs on
   * its hot path (an API instance's line per request), where the pipe cost a quarter of its throughput.
   */
  logDirectly?: boolean;
  /** Both logs rotate by size (DEFAULT_LOG_ROTATION unless given). */
  rotation?: LogRotation;
  cwd: string;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** How to ask it to stop (NGINX: SIGQUIT, a graceful shutdown). SIGTERM by default. */
  stopSignal?: NodeJS.Signals;
  /** Redis ignores a SIGTERM while it writes its first AOF after a sync ("can't exit"): ask again this often. */
  repeatStopMs?: number;
  /** SIGKILL after this long. */
  graceMs?: number;
  /** Its own process group: a terminal's Ctrl-C then reaches only the launcher, which stops everything in order. */
  detached: boolean;
  /** Resolves once it serves (PING, /health/ready); rejects while it does not yet. */
  ready: () => Promise<unknown>;
  readyTimeoutMs: number;
}

/**
 * One long-running process of the stack (Redis, Sentinel, an API instance, NGINX): started with its log,
 * guarded against outliving us, paused, resumed, killed, restarted from its own data. An exit nobody asked
 * for is reported once through onCrash, naming the process and its log.
 */
export class Supervised {
  crash: Error | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private expectExit = false;
  private paused = false;
  private logs: { out: Writable; err: Writable } | undefined;

  constructor(
    readonly spec: ProcessSpec,
    private readonly onCrash: (err: Error) => void,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    const c = this.child;
    return c?.pid !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Running and not paused: it can answer. */
  get answers(): boolean {
    return this.running && !this.paused;
  }

  start(): void {
    const child = this.spec.logDirectly ? this.spawnWritingLog() : this.spawnPiped();
    Object.assign(this, { child, paused: false, expectExit: false, crash: undefined });
    guardAgainstOrphans(child);
    const rotating = this.rotateOwnLogs();
    this.exited = new Promise((resolve) => {
      const done = async (why: string) => {
        if (!this.expectExit && !this.crash) {
          // Its last lines may still be in the pipe (a forked child can hold it open: wait only briefly).
          await Promise.race([once(child, 'close'), sleep(LAST_WORDS_MS)]);
          this.crash = new Error(`${this.spec.name} ${why}; log: ${this.spec.log}\n${tail(this.spec.log)}`);
          this.onCrash(this.crash);
        }
        clearInterval(rotating);
        resolve();
      };
      child.once('exit', (code, signal) => void done(`exited unexpectedly (${signal ?? `code ${code}`})`));
      child.once('error', (err) => void done(`could not be started (${err.message})`));
    });
  }

  /** Polls its readiness probe; fails at once if it dies, or if halted() names a reason to give up. */
  waitUntilReady(timeoutMs = this.spec.readyTimeoutMs, halted: () => Error | undefined = () => undefined) {
    const what = `${this.spec.name} to be ready (log: ${this.spec.log})`;
    return waitFor(what, timeoutMs, this.spec.ready, () => halted() ?? this.crash);
  }

  /** SIGSTOP: it keeps its sockets open but answers nothing. */
  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  /** Sends the signal (its stop signal by default), waits for the exit, which is then no crash; SIGKILL after grace. */
  async kill(signal: NodeJS.Signals = this.spec.stopSignal ?? 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.expectExit = true;
    child.kill(signal);
    // A stopped process acts on no signal until continued.
    if (this.paused) child.kill('SIGCONT');
    const { repeatStopMs, graceMs = DEFAULT_GRACE_MS } = this.spec;
    const repeats = signal === 'SIGTERM' && repeatStopMs !== undefined;
    const repeat = repeats ? setInterval(() => child.kill(signal), repeatStopMs) : undefined;
    const escalate = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearInterval(repeat);
    clearTimeout(escalate);
  }

  /** Asks it to stop, as it prefers, waits for the exit, and closes its logs once its last lines are in. */
  async stop(): Promise<void> {
    await this.kill();
    const { child, logs } = this;
    if (child?.stdout && !child.stdout.readableEnded) await Promise.race([once(child.stdout, 'end'), sleep(1000)]);
    if (child) {
      child.stdout?.unpipe();
      child.stderr?.unpipe();
    }
    this.logs = undefined;
    const streams = logs ? [...new Set([logs.out, logs.err])] : [];
    await Promise.all(streams.map((stream) => new Promise((resolve) => stream.end(resolve))));
  }

  /** Stops it if it runs, starts it again with the same config and data, and waits until it is ready. */
  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    this.start();
    await this.waitUntilReady();
  }

  /** Resolves when it has exited, for whatever reason. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  private spawnPiped(): ChildProcess {
    const { command, args, cwd, env, detached } = this.spec;
    const logs = this.openLogs();
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: 'pipe', detached });
    child.stdin.end();
    // Kept open across restarts: one writer per file, whichever child feeds it.
    child.stdout.pipe(logs.out, { end: false });
    child.stderr.pipe(logs.err, { end: false });
    return child;
  }

  private spawnWritingLog(): ChildProcess {
    const { command, args, cwd, env, detached, log } = this.spec;
    const out = openSync(log, 'a');
    try {
      return spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', out, out], detached });
    } finally {
      closeSync(out);
    }
  }

  private rotateOwnLogs(): NodeJS.Timeout | undefined {
    const { rotation = DEFAULT_LOG_ROTATION, name } = this.spec;
    const ownLogs = [...(this.spec.ownLogs ?? []), ...(this.spec.logDirectly ? [this.spec.log] : [])];
    if (ownLogs.length === 0) return undefined;
    const timer = setInterval(async () => {
      for (const file of ownLogs) {
        await rotateIfFull(file, rotation).catch((err: Error) =>
          console.error(`${name}: cannot rotate ${file}: ${err}`),
        );
      }
    }, OWN_LOGS_CHECK_MS);
    timer.unref();
    return timer;
  }

  private openLogs(): { out: Writable; err: Writable } {
    const { log, outLog, rotation = DEFAULT_LOG_ROTATION, name } = this.spec;
    const report = (err: Error) => console.error(`${name}: cannot write its log: ${err.message}`);
    if (!this.logs) {
      const err = rotatingLog(log, rotation, report);
      this.logs = { err, out: outLog ? rotatingLog(outLog, rotation, report) : err };
    }
    return this.logs;
  }

  private signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.running) throw new Error(`cannot ${signal} ${this.spec.name}: it is not running`);
    this.child?.kill(signal);
  }
}
