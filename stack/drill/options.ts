import { parseArgs } from 'node:util';
import { DEFAULTS } from '../../src/config-defaults.js';

/** The faults a drill can inject, always on the current master (or its replicas, an API, a Sentinel). */
export const FAULTS = [
  'pause-master',
  'kill-master',
  'pause-replicas',
  'kill-api',
  'restart-all',
  'double-failover',
  'pause-sentinel-and-master',
  'mixed',
] as const;
export type FaultName = (typeof FAULTS)[number];
export type ConcreteFault = Exclude<FaultName, 'mixed'>;

export interface DrillOptions {
  fault: FaultName;
  /** Number of cycles; with a sweep, each value runs this many times. */
  cycles: number;
  /** How long each pause lasts: one value, or a sweep (one cycle per value). Undefined: down-after + 1 s. */
  pauseSeconds: number[] | undefined;
  /** Concurrent purchasing clients, one drill user each. */
  clients: number;
  products: number;
  /** Large enough that no purchase is ever refused for stock. */
  initialStock: number;
  readsPerSecond: number;
  /** Above NGINX's proxy_read_timeout (5 s), so that NGINX's own 504 is what a client usually sees. */
  requestTimeoutMs: number;
  /** Between one client's purchases: leaves CPU to the system under test on a small machine. */
  thinkMs: number;
  /** Steady load before the first fault and after each heal. */
  steadyMs: number;
  /** How long a heal may take before the cycle is reported as not healed. */
  healTimeoutMs: number;
  /** After the last cycle: how long unknown outcomes are retried with their own key. */
  resolveTimeoutMs: number;
}

export const DEFAULT_OPTIONS: Omit<DrillOptions, 'fault'> = {
  cycles: 1,
  pauseSeconds: undefined,
  clients: 8,
  products: 5,
  initialStock: 1_000_000,
  readsPerSecond: 20,
  requestTimeoutMs: 6000,
  thinkMs: 20,
  steadyMs: 2000,
  healTimeoutMs: 90_000,
  resolveTimeoutMs: 30_000,
};

/** What the command line adds to the engine's options: the stack it starts and where the report goes. */
export interface DrillCommand {
  options: DrillOptions;
  downAfterMs: number;
  failoverTimeoutMs: number;
  target: 'local';
  json: string | undefined;
  /** Keep the drill stack's state folder (data, logs) even when the drill passes. */
  keep: boolean;
}

export class DrillUsageError extends Error {
  override name = 'DrillUsageError';
}

export const DRILL_USAGE = `usage: npm run drill -- [--fault NAME] [--cycles N] [--pause-seconds X | FROM:TO:STEP]
                      [--down-after-ms N] [--failover-timeout-ms N] [--target local] [--json FILE] [--keep]
  --fault             ${FAULTS.join(', ')} (default pause-master)
  --cycles            cycles to run (default 1; with a sweep, per value)
  --pause-seconds     how long a pause lasts; a sweep FROM:TO:STEP runs one cycle per value (default down-after + 1 s)
  --down-after-ms     Sentinel down-after-milliseconds of the drill's own stack (default 5000)
  --failover-timeout-ms  Sentinel failover-timeout of the drill's own stack (default 10000)
  --target            local: a stack of its own on free ports (compose: not yet)
  --json              also write the report as JSON to FILE
  --keep              keep the drill stack's data and logs (always kept when an invariant fails)`;

/** The drill's command line (util.parseArgs); throws DrillUsageError with the reason. */
export function parseDrillArgs(args: string[]): DrillCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        fault: { type: 'string', default: 'pause-master' },
        cycles: { type: 'string', default: '1' },
        'pause-seconds': { type: 'string' },
        'down-after-ms': { type: 'string', default: String(DEFAULTS.downAfterMs) },
        'failover-timeout-ms': { type: 'string', default: String(DEFAULTS.failoverTimeoutMs) },
        target: { type: 'string', default: 'local' },
        json: { type: 'string' },
        keep: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new DrillUsageError((err as Error).message);
  }
  const fault = values.fault as FaultName;
  if (!FAULTS.includes(fault)) {
    throw new DrillUsageError(`--fault: "${values.fault}" is not one of ${FAULTS.join(', ')}`);
  }
  if (values.target === 'compose') {
    throw new DrillUsageError('--target compose is not supported yet: the drill runs against a local stack of its own');
  }
  if (values.target !== 'local') throw new DrillUsageError(`--target: "${values.target}" is not local`);
  const pauses = values['pause-seconds'];
  return {
    options: {
      ...DEFAULT_OPTIONS,
      fault,
      cycles: integer('--cycles', values.cycles, 1),
      pauseSeconds: pauses === undefined ? undefined : parsePauses(pauses),
    },
    downAfterMs: integer('--down-after-ms', values['down-after-ms'], 100),
    failoverTimeoutMs: integer('--failover-timeout-ms', values['failover-timeout-ms'], 100),
    target: 'local',
    json: values.json,
    keep: values.keep === true,
  };
}

/** "6" → [6]; "4.5:7:0.5" → [4.5, 5, ..., 7]. */
export function parsePauses(text: string): number[] {
  const parts = text.split(':').map((part) => seconds(part, text));
  if (parts.length === 1) return parts;
  const [from, to, step] = parts;
  if (parts.length !== 3 || from === undefined || to === undefined || step === undefined) {
    throw new DrillUsageError(`--pause-seconds: "${text}" is neither a number nor FROM:TO:STEP`);
  }
  if (step <= 0 || to < from) throw new DrillUsageError(`--pause-seconds: "${text}" needs FROM ≤ TO and STEP > 0`);
  const count = Math.floor((to - from) / step + 1e-9) + 1;
  if (count > 100) throw new DrillUsageError(`--pause-seconds: "${text}" makes ${count} cycles; 100 at most`);
  // Rounded: 0.1 steps would otherwise drift (0.30000000000000004).
  return Array.from({ length: count }, (_, i) => Math.round((from + i * step) * 1000) / 1000);
}

/** The pause of each cycle, in milliseconds: the sweep repeated `cycles` times, or one value per cycle. */
export function cyclePauses(options: DrillOptions, downAfterMs: number): number[] {
  const values = options.pauseSeconds ?? [(downAfterMs + 1000) / 1000];
  return Array.from({ length: options.cycles }, () => values)
    .flat()
    .map((s) => Math.round(s * 1000));
}

function seconds(part: string, whole: string): number {
  const n = Number(part);
  if (part.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new DrillUsageError(`--pause-seconds: "${whole}" is not valid`);
  }
  return n;
}

function integer(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) {
    throw new DrillUsageError(`${flag}: "${value}" is not an integer of ${min} or more`);
  }
  return n;
}
