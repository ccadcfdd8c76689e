import { Counter, Gauge, Registry } from 'prom-client';
import type { Supervised } from './supervised.js';

/** One process as the launcher's GET /status shows it (`npm run status` reads it). */
export interface SupervisedState {
  name: string;
  /** null while it is down. */
  pid: number | null;
  /** Automatic restarts after a crash since the launcher started. */
  restarts: number;
  /** Why the supervisor gave up on it (the report's first line); null unless it did. */
  gaveUp: string | null;
  /** Its last crash (ISO 8601), or null. */
  lastCrashAt: string | null;
}

export function supervisedStates(processes: Supervised[]): SupervisedState[] {
  return processes.map((p) => ({
    name: p.spec.name,
    pid: p.pid ?? null,
    restarts: p.restarts,
    gaveUp: p.gaveUp ? (p.gaveUp.message.split('\n')[0] ?? '') : null,
    lastCrashAt: p.lastCrashAt === undefined ? null : new Date(p.lastCrashAt).toISOString(),
  }));
}

/**
 * The supervisor's metrics, each labelled `process` (redis-6379, nginx, …), read from the processes at each
 * scrape: a process added later (the monitoring tier's) is there from its first scrape on, at 0.
 */
export function supervisorRegistry(processes: () => Supervised[]): Registry {
  const registry = new Registry();
  const labelNames = ['process'];
  new Counter({
    name: 'evergreen_supervisor_restarts_total',
    help: 'Automatic restarts of the process after a crash, since the launcher started',
    labelNames,
    registers: [registry],
    collect() {
      // Set, not counted here: Supervised counts (reset and inc in one go, nothing runs in between).
      this.reset();
      for (const p of processes()) this.inc({ process: p.spec.name }, p.restarts);
    },
  });
  const gauge = (name: string, help: string, value: (p: Supervised) => boolean) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const p of processes()) this.set({ process: p.spec.name }, value(p) ? 1 : 0);
      },
    });
  gauge(
    'evergreen_supervisor_up',
    '1 while the process runs (paused counts as running), 0 while it is down',
    (p) => p.running,
  );
  gauge('evergreen_supervisor_gave_up', '1 once a crash loop made the supervisor leave the process down', (p) =>
    Boolean(p.gaveUp),
  );
  return registry;
}
