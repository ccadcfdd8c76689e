import { closeSync, openSync } from 'node:fs';
import { execa, type Options, type Result, type ResultPromise } from 'execa';
import { tail } from './logs.js';
import { guardAgainstOrphans } from './orphans.js';

// The API closes within close-with-grace's 10 s; NGINX drains in-flight requests within its timeouts.
const STOP_GRACE_MS = 12_000;

export interface ChildSpec {
  /** e.g. api-3001, nginx: named in every report. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  log: string;
  cwd: string;
  env?: Record<string, string>;
  /** How to ask it to stop (NGINX: SIGQUIT, a graceful shutdown). */
  stopSignal?: NodeJS.Signals;
}

/**
 * One long-running process of the stack (an API instance, NGINX), in its own process group so that
 * a terminal's Ctrl-C reaches only the launcher, which stops everything in order. An exit nobody asked
 * for is reported once through onCrash, naming the process and its log.
 */
export class Child {
  crash: Error | undefined;
  private subprocess: ResultPromise<Options> | undefined;
  private exited: Promise<unknown> = Promise.resolve();
  private expectExit = false;

  constructor(
    readonly spec: ChildSpec,
    private readonly onCrash: (err: Error) => void,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.subprocess?.pid : undefined;
  }

  get running(): boolean {
    const s = this.subprocess;
    return s?.pid !== undefined && s.exitCode === null && s.signalCode === null;
  }

  start(): void {
    const { command, args, log, cwd, env, stopSignal } = this.spec;
    // Any open fd goes straight to spawn (execa's types list only 3-9): the child writes its log itself.
    const out = openSync(log, 'a') as 3;
    const options: Options = {
      cwd,
      env,
      stdin: 'ignore',
      stdout: out,
      stderr: out,
      detached: true,
      cleanup: false, // guardAgainstOrphans does it, also for detached processes
      reject: false,
      killSignal: stopSignal ?? 'SIGTERM',
      forceKillAfterDelay: STOP_GRACE_MS,
    };
    const subprocess = execa(command, args, options);
    closeSync(out);
    Object.assign(this, { subprocess, expectExit: false, crash: undefined });
    guardAgainstOrphans(subprocess);
    this.exited = subprocess.then((result) => this.onExit(result));
  }

  /** Asks it to stop (SIGKILL after a grace period) and waits for the exit. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.expectExit = true;
    this.subprocess?.kill();
    await this.exited;
  }

  /** Sends a signal (a drill: SIGKILL, SIGTERM) and waits for the exit, which is then no crash. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    this.expectExit = true;
    this.subprocess?.kill(signal);
    await this.exited;
  }

  /** Resolves when it has exited, for whatever reason. */
  whenExited(): Promise<unknown> {
    return this.exited;
  }

  private onExit(result: Result): void {
    if (this.expectExit) return;
    const what = result.exitCode === undefined && !result.signal
      ? `could not be started (${result.originalMessage})`
      : `exited unexpectedly (${result.signal ?? `code ${result.exitCode}`})`;
    this.crash = new Error(`${this.spec.name} ${what}; log: ${this.spec.log}\n${tail(this.spec.log)}`);
    this.onCrash(this.crash);
  }
}
