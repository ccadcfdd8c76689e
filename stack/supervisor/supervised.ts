import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '../helpers/wait.js';
import { DEFAULT_LOG_ROTATION, rotateIfFull, rotatingLog } from './log-file.js';
import { tail } from './logs.js';
import { guardAgainstOrphans, killGroupLeftovers } from './orphans.js';
import type { ProcessSpec } from './process-spec.js';
import { SupervisorReport, type SupervisorReportKind } from './report.js';
import { CrashHistory, DEFAULT_RESTART_POLICY, seconds } from './restart-policy.js';

export type { ProcessSpec } from './process-spec.js';

const DEFAULT_GRACE_MS = 12_000;
// How long a crash report waits for the last lines a process wrote before it died.
const LAST_WORDS_MS = 250;
// How often the logs a program writes itself are measured.
const OWN_LOGS_CHECK_MS = 5000;

/**
 * One long-running process of the stack (Redis, Sentinel, an API instance, NGINX): started with its log,
 * guarded against outliving us, paused, resumed, killed, restarted from its own data. An exit nobody asked
 * for is reported through onCrash, naming the process and its log, and restarted by its restart policy; the
 * restart, or giving up on a crash loop, is reported there too (each a SupervisorReport).
 */
export class Supervised {
  /** Down for good: a crash loop made it give up, or it crashed with no restart policy. Waits fail at once on it. */
  crash: Error | undefined;
  /** Automatic restarts so far, counted as each begins. */
  restarts = 0;
  /** Why it gave up restarting it; it stays down until start() is called. */
  gaveUp: Error | undefined;
  /** When it last exited unasked (ms since the epoch). */
  lastCrashAt: number | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  // Bumped by every deliberate start, kill and stop: an exit, or a restart scheduled, from before it is not acted on.
  private generation = 0;
  private paused = false;
  private logs: { out: Writable; err: Writable } | undefined;
  private readonly crashes: CrashHistory | undefined;
  private pendingRestart: { wake: () => void } | undefined;
  private lastCrash: SupervisorReport | undefined;

  constructor(
    readonly spec: ProcessSpec,
    private readonly onCrash: (report: Error) => void,
  ) {
    const policy = spec.restart ?? DEFAULT_RESTART_POLICY;
    this.crashes = policy ? new CrashHistory(policy) : undefined;
  }

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

  /** Crashed, and waiting out its backoff (or its beforeRestart) before it is started again. */
  get restartPending(): boolean {
    return this.pendingRestart !== undefined;
  }

  /** Starts it; a restart the supervisor had scheduled is called off, and a crash loop it gave up on forgotten. */
  start(): void {
    this.callOffRestart();
    if (this.gaveUp) this.crashes?.forget();
    Object.assign(this, { crash: undefined, gaveUp: undefined });
    this.launch();
  }

  /** Polls its readiness probe, across restarts; fails at once if it is down for good, or halted() names a reason. */
  async waitUntilReady(timeoutMs = this.spec.readyTimeoutMs, halted: () => Error | undefined = () => undefined) {
    const what = `${this.spec.name} to be ready (log: ${this.spec.log})`;
    const since = Date.now();
    try {
      return await waitFor(what, timeoutMs, this.spec.ready, () => halted() ?? this.crash);
    } catch (err) {
      const crash = this.lastCrash;
      const timedOut = err instanceof Error && err.message.startsWith('timed out');
      if (!timedOut || !crash || (this.lastCrashAt ?? 0) < since) throw err;
      throw new Error(`${err.message}; it crashed meanwhile (${this.restarts} restarts so far): ${crash.message}`);
    }
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

  /**
   * Sends the signal (its stop signal by default), waits for the exit, which is then no crash; SIGKILL after grace.
   * A restart the supervisor had scheduled is called off.
   */
  async kill(signal: NodeJS.Signals = this.spec.stopSignal ?? 'SIGTERM'): Promise<void> {
    this.callOffRestart();
    const child = this.child;
    // A crash still being reported finishes first, and then schedules nothing.
    if (!child || !this.running) return this.exited;
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

  private launch(): void {
    const child = this.spec.logDirectly ? this.spawnWritingLog() : this.spawnPiped();
    Object.assign(this, { child, paused: false });
    guardAgainstOrphans(child);
    const rotating = this.rotateOwnLogs();
    const generation = this.generation;
    this.exited = new Promise((resolve) => {
      let seen = false;
      const done = async (why: string) => {
        if (seen) return;
        seen = true;
        // NGINX's workers outlive a SIGKILL of their master and keep its socket; a Redis fork (BGSAVE) its files.
        const leftovers = this.spec.detached && child.pid !== undefined ? killGroupLeftovers(child.pid) : undefined;
        if (leftovers) this.note(`${this.spec.name}: ${leftovers}`);
        if (generation === this.generation) await this.crashed(child, why, generation);
        clearInterval(rotating);
        resolve();
      };
      child.once('exit', (code, signal) => void done(`exited unexpectedly (${signal ?? `code ${code}`})`));
      child.once('error', (err) => void done(`could not be started (${err.message})`));
    });
  }

  /** An exit nobody asked for: reported with its log's tail, then restarted after the backoff, or given up on. */
  private async crashed(child: ChildProcess, why: string, generation: number): Promise<void> {
    const { name, log } = this.spec;
    // Its last lines may still be in the pipe (a forked child can hold it open: wait only briefly).
    await Promise.race([once(child, 'close'), sleep(LAST_WORDS_MS)]);
    this.lastCrashAt = Date.now();
    const where = `log: ${log}\n${tail(log)}`;
    // Stopped or started again meanwhile, or no policy: reported, and nothing more.
    if (generation !== this.generation || !this.crashes) {
      const report = this.report('crash', `${name} ${why}; ${where}`);
      if (generation === this.generation) this.crash = report;
      return this.onCrash(report);
    }
    const { crashes, delayMs } = this.crashes.record(this.lastCrashAt);
    if (delayMs === undefined) {
      const loop = `${crashes} crashes in ${seconds(this.crashes.policy.windowMs)}`;
      const message = `GAVE UP on ${name} after ${loop} (the last: ${why}); it stays down; ${where}`;
      this.gaveUp = this.crash = this.report('gave-up', message);
      return this.onCrash(this.gaveUp);
    }
    const restart = `restarting it in ${seconds(delayMs)} (restart ${this.restarts + 1})`;
    this.lastCrash = this.report('crash', `${name} ${why}; ${restart}; ${where}`, delayMs);
    this.onCrash(this.lastCrash);
    void this.restartAfter(delayMs, generation);
  }

  /** Waits out the backoff, runs beforeRestart, starts it again and waits until it is ready, unless called off. */
  private async restartAfter(delayMs: number, generation: number): Promise<void> {
    const { name, beforeRestart, ready, readyTimeoutMs } = this.spec;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.pendingRestart = { wake: () => (clearTimeout(timer), resolve()) };
    });
    if (generation !== this.generation) return;
    if (beforeRestart) {
      await beforeRestart().catch((err: unknown) =>
        this.note(`${name}: beforeRestart failed (${err}); restarting it anyway`),
      );
      if (generation !== this.generation) return;
    }
    this.pendingRestart = undefined;
    const restart = (this.restarts += 1);
    const startedAt = Date.now();
    this.launch();
    const child = this.child;
    const exitedAgain = () => (this.child !== child || !this.running ? new Error(`${name} exited again`) : undefined);
    try {
      await waitFor(`${name} to be ready`, readyTimeoutMs, ready, exitedAgain);
      const took = `ready in ${Date.now() - startedAt} ms`;
      this.note(`${name} restarted after a crash (restart ${restart}, ${seconds(delayMs)} backoff), ${took}`);
    } catch (err) {
      // Exited again (its crash has a report of its own), or killed on purpose: nothing to add.
      if (exitedAgain()) return;
      this.note(`${name} restarted after a crash (restart ${restart}) but is not ready: ${(err as Error).message}`);
    }
  }

  private callOffRestart(): void {
    this.generation += 1;
    this.pendingRestart?.wake();
    this.pendingRestart = undefined;
  }

  private report(kind: SupervisorReportKind, message: string, restartInMs?: number): SupervisorReport {
    return new SupervisorReport(kind, this.spec.name, message, restartInMs);
  }

  private note(message: string): void {
    this.onCrash(this.report('restart', message));
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
