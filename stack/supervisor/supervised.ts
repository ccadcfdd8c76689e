import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { waitFor } from '../wait.js';
import { tail } from './logs.js';
import { guardAgainstOrphans } from './orphans.js';

const DEFAULT_GRACE_MS = 12_000;

/** One kind of process, as its file in processes/ describes it. */
export interface ProcessSpec {
  /** e.g. redis-6379, api-3001, nginx: named in every report. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here (a config error is printed before a program opens its own log). */
  log: string;
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
    const { command, args, log, cwd, env, detached } = this.spec;
    const out = openSync(log, 'a');
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', out, out], detached });
    closeSync(out);
    Object.assign(this, { child, paused: false, expectExit: false, crash: undefined });
    guardAgainstOrphans(child);
    this.exited = new Promise((resolve) => {
      const done = (why: string) => {
        if (!this.expectExit && !this.crash) {
          this.crash = new Error(`${this.spec.name} ${why}; log: ${this.spec.log}\n${tail(this.spec.log)}`);
          this.onCrash(this.crash);
        }
        resolve();
      };
      child.once('exit', (code, signal) => done(`exited unexpectedly (${signal ?? `code ${code}`})`));
      child.once('error', (err) => done(`could not be started (${err.message})`));
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

  /** Asks it to stop, as it prefers, and waits for the exit. */
  stop(): Promise<void> {
    return this.kill();
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

  private signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (!this.running) throw new Error(`cannot ${signal} ${this.spec.name}: it is not running`);
    this.child?.kill(signal);
  }
}
