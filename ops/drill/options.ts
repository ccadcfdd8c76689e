import { parseArgs } from 'node:util';
import { DEFAULTS } from '../../src/config-defaults.js';

/**
 * The faults a drill can inject, always on the current master (or its replicas, an API, a Sentinel, NGINX, or
 * the host that holds the master: the *-node faults).
 */
export const FAULTS = [
  'pause-master',
  'kill-master',
  'pause-replicas',
  'kill-api',
  'restart-all',
  'double-failover',
  'pause-sentinel-and-master',
  'crash-api',
  'crash-replica',
  'crash-sentinel',
  'crash-nginx',
  'replica-down-during-failover',
  'restart-stack',
  'kill-node',
  'freeze-node',
  'partition-node',
  'drain-node',
  'upgrade-api',
  'disk-full',
  'memory-full',
  'slow-replica',
  'mixed',
] as const;
export type FaultName = (typeof FAULTS)[number];
export type ConcreteFault = Exclude<FaultName, 'mixed'>;

/** The faults of a resource running out rather than a process: judged by the answers, the alerts and the way back. */
export const RESOURCE_FAULT_NAMES: readonly ConcreteFault[] = ['disk-full', 'memory-full', 'slow-replica'];

/**
 * What mixed draws from: every concrete fault but restart-stack, a planned outage of everything that would
 * swamp the other faults' figures (name it in a sequence instead: --fault mixed,restart-stack).
 */
export const MIXED_FAULTS = FAULTS.filter((f): f is ConcreteFault => f !== 'mixed' && f !== 'restart-stack');

export interface DrillOptions {
  /** One fault for every cycle, or a sequence that the cycles run through in order. */
  fault: FaultName | readonly FaultName[];
  /** Times over: with a sequence or a sweep, each runs this many times. */
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
  /** local: a stack of its own on free ports; compose: a Compose project of its own; swarm: a swarm of its own. */
  target: 'local' | 'compose' | 'swarm';
  json: string | undefined;
  /** Where the report goes as one self-contained HTML page: a timeline per cycle, the invariants. */
  html: string | undefined;
  /** Keep the drill stack's state folder (data, logs) even when the drill passes. */
  keep: boolean;
}

export class DrillUsageError extends Error {
  override name = 'DrillUsageError';
}

export const DRILL_USAGE = `usage: npm run drill -- [--fault NAME[,NAME...]] [--cycles N]
                      [--pause-seconds X | FROM:TO:STEP] [--down-after-ms N] [--failover-timeout-ms N]
                      [--target local|compose|swarm] [--json FILE] [--html FILE] [--keep]
  --fault             ${FAULTS.join(', ')} (default pause-master);
                      a comma-separated list runs one cycle of each in order (e.g. kill-master,restart-stack);
                      mixed draws at random from every fault but restart-stack;
                      disk-full fills the master's data filesystem (local, as root: a tmpfs per node),
                      memory-full brings the master to maxmemory, slow-replica stops one replica 2.5 s of every
                      3 s — each for 20 s, with the stack's Prometheus watching for the alerts
  --cycles            times to run the fault or the list (default 1)
  --pause-seconds     how long a pause lasts (default down-after + 1 s);
                      a sweep FROM:TO:STEP runs each fault once per value
  --down-after-ms     Sentinel down-after-milliseconds of the drill's own stack (default 5000)
  --failover-timeout-ms  Sentinel failover-timeout of the drill's own stack (default 10000)
  --target            local: a stack of its own on free ports (default);
                      compose: a Compose project of its own (docker pause/kill/start; no crash-*);
                      swarm: a swarm of its own, three Docker-in-Docker nodes (the *-node faults, upgrade-api,
                      and the pause faults: Swarm restarts a killed task, so no kill-* or crash-*)
  --json              also write the report as JSON to FILE
  --html              also write the report as one HTML page to FILE (charts inline; opens without a network)
  --keep              keep the drill stack's data and logs, or the Compose project (the local stack's are always
                      kept when an invariant fails)`;

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
        html: { type: 'string' },
        keep: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw new DrillUsageError((err as Error).message);
  }
  const faults = parseFaults(values.fault);
  const target = values.target;
  if (target !== 'local' && target !== 'compose' && target !== 'swarm') {
    throw new DrillUsageError(`--target: "${target}" is none of local, compose, swarm`);
  }
  const pauses = values['pause-seconds'];
  return {
    options: {
      ...DEFAULT_OPTIONS,
      fault: faults.length === 1 ? faults[0] : faults,
      cycles: integer('--cycles', values.cycles, 1),
      pauseSeconds: pauses === undefined ? undefined : parsePauses(pauses),
    },
    downAfterMs: integer('--down-after-ms', values['down-after-ms'], 100),
    failoverTimeoutMs: integer('--failover-timeout-ms', values['failover-timeout-ms'], 100),
    target,
    json: values.json,
    html: values.html,
    keep: values.keep === true,
  };
}

/** "kill-master" → ['kill-master']; "kill-master,restart-stack" → both, in that order. */
export function parseFaults(text: string): [FaultName, ...FaultName[]] {
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.find((name) => !(FAULTS as readonly string[]).includes(name));
  if (unknown !== undefined) {
    throw new DrillUsageError(`--fault: "${unknown}" is not one of ${FAULTS.join(', ')}`);
  }
  return names as [FaultName, ...FaultName[]];
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

/** One cycle of the plan: the fault it injects (mixed: drawn when it runs) and how long a pause lasts. */
export interface PlannedCycle {
  fault: FaultName;
  pauseMs: number;
}

/** The faults of the option: one, or the sequence in order. */
export const faultSequence = (options: Pick<DrillOptions, 'fault'>): readonly FaultName[] =>
  typeof options.fault === 'string' ? [options.fault] : options.fault;

/** "kill-master,restart-stack": the fault option as the report names it. */
export const faultLabel = (options: Pick<DrillOptions, 'fault'>): string => faultSequence(options).join(',');

/**
 * Every cycle in order: the sequence of faults run `cycles` times over, each fault once per value of the pause
 * sweep (one value, down-after + 1 s, without one).
 */
export function cyclePlan(options: DrillOptions, downAfterMs: number): PlannedCycle[] {
  const pauses = (options.pauseSeconds ?? [(downAfterMs + 1000) / 1000]).map((s) => Math.round(s * 1000));
  const once = faultSequence(options).flatMap((fault) => pauses.map((pauseMs) => ({ fault, pauseMs })));
  return Array.from({ length: options.cycles }, () => once).flat();
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
