import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Busy } from '../errors.js';
import type { PasswordJob } from './worker.js';

export interface PasswordSettings {
  cost: number;
  /** Worker threads per instance. */
  threads: number;
  /** The longest a job may be expected to wait for a thread; beyond it a sign-in is refused (503 BUSY). */
  maxWaitMs: number;
}

// The worker beside this file: worker.js once built, worker.ts when run from source under tsx (which rewrites
// `.js` to `.ts` only for imports made by TypeScript files, not for piscina's own import of the worker).
const RECENT_WEIGHT = 0.2;
const WORKER = new URL(`./worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

/** The cost a bcrypt hash was made with (`$2b$10$…`), or NaN. */
const costOf = (hash: string) => Number(/^\$2[abxy]\$(\d\d)\$/.exec(hash)?.[1]);

/**
 * bcrypt (bcryptjs) on worker threads (piscina): a hash takes ~80 ms of CPU at cost 10, which on the event loop
 * would stall every request of the instance, catalog reads included, for as long as a login storm lasts.
 */
export class Passwords {
  private readonly pool: Piscina<PasswordJob, string | boolean>;
  /** Submission-to-answer time of recent jobs, smoothed. */
  private recentMs = 0;
  /** Whether a job has finished: the first one also paid for starting the thread and loading bcrypt. */
  private warm = false;
  /** Jobs finished, by `op:cost`: what a sign-in did, countable without timing it. */
  private readonly finished = new Map<string, number>();

  constructor(private readonly settings: PasswordSettings) {
    this.pool = new Piscina({
      filename: WORKER,
      minThreads: settings.threads,
      maxThreads: settings.threads,
      idleTimeout: Infinity,
    });
  }

  hash(password: string): Promise<string> {
    return this.run({ op: 'hash', password, cost: this.settings.cost }) as Promise<string>;
  }

  compare(password: string, hash: string): Promise<boolean> {
    return this.run({ op: 'compare', password, hash }) as Promise<boolean>;
  }

  /** How many jobs of this kind at this bcrypt cost have finished (a comparison's cost is its hash's). */
  finishedJobs(op: PasswordJob['op'], cost: number): number {
    return this.finished.get(`${op}:${cost}`) ?? 0;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }

  private async run(job: PasswordJob): Promise<string | boolean> {
    // More sign-ins waiting than the threads can hash in time: refused at once (the client retries shortly)
    // rather than left waiting until NGINX times the request out and counts the instance as failed.
    if (this.pool.queueSize > 0 && this.expectedWaitMs() > this.settings.maxWaitMs) throw new Busy();
    const started = performance.now();
    try {
      const result = await this.pool.run(job);
      const key = `${job.op}:${job.op === 'hash' ? job.cost : costOf(job.hash)}`;
      this.finished.set(key, (this.finished.get(key) ?? 0) + 1);
      return result;
    } finally {
      // The first job measures a cold thread and unoptimised bcrypt, not a hash: on a busy machine it alone
      // would put the expected wait past maxWaitMs and refuse the first sign-ins that queue. Neither measure
      // keeps it (UserStore.prepare runs a second at start, which they do keep).
      if (this.warm) this.recentMs += (performance.now() - started - this.recentMs) * RECENT_WEIGHT;
      else this.pool.histogram.resetRunTime();
      this.warm = true;
    }
  }

  /**
   * The longer of: the jobs ahead times how long a job has run on average (NaN before the first), and how long
   * recent jobs took from submission to answer (it rises when the hashes share the CPU with everything else).
   */
  private expectedWaitMs(): number {
    const meanMs = this.pool.histogram.runTime.mean;
    const ahead = meanMs > 0 ? (this.pool.queueSize * meanMs) / this.settings.threads : 0;
    return Math.max(ahead, this.recentMs);
  }
}
