import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { Busy } from '../errors.js';
import type { PasswordJob } from './worker.js';

export interface PasswordSettings {
  cost: number;
  /** Worker threads per instance. */
  threads: number;
  /** Jobs waiting for a thread, beyond which a request is refused (503 BUSY) instead of queued. */
  maxQueue: number;
}

// The worker beside this file: worker.js once built, worker.ts when run from source under tsx (which rewrites
// `.js` to `.ts` only for imports made by TypeScript files, not for piscina's own import of the worker).
const WORKER = new URL(`./worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url).href;

/**
 * bcrypt (bcryptjs) on worker threads (piscina): a hash takes ~80 ms of CPU at cost 10, which on the event loop
 * would stall every request of the instance, catalog reads included, for as long as a login storm lasts.
 */
export class Passwords {
  private readonly pool: Piscina<PasswordJob, string | boolean>;

  constructor(private readonly settings: PasswordSettings) {
    this.pool = new Piscina({
      filename: WORKER,
      minThreads: settings.threads,
      maxThreads: settings.threads,
      maxQueue: settings.maxQueue,
      idleTimeout: Infinity,
    });
  }

  hash(password: string): Promise<string> {
    return this.run({ op: 'hash', password, cost: this.settings.cost }) as Promise<string>;
  }

  compare(password: string, hash: string): Promise<boolean> {
    return this.run({ op: 'compare', password, hash }) as Promise<boolean>;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }

  private run(job: PasswordJob): Promise<string | boolean> {
    // A full queue: more sign-ins than the threads can hash in time; the client retries shortly.
    if (this.pool.queueSize >= this.settings.maxQueue) return Promise.reject(new Busy());
    return this.pool.run(job);
  }
}
