import type { LogRotation } from './log-file.js';
import type { RestartPolicy } from './restart-policy.js';

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
  /**
   * Its own process group: a terminal's Ctrl-C then reaches only the launcher, which stops everything in order.
   * Once it has exited, what is left of its group is SIGKILLed (NGINX's workers, a Redis fork): nothing outlives it.
   */
  detached: boolean;
  /** Resolves once it serves (PING, /health/ready); rejects while it does not yet. */
  ready: () => Promise<unknown>;
  readyTimeoutMs: number;
  /** Started again after an exit nobody asked for (DEFAULT_RESTART_POLICY unless given); false: left down. */
  restart?: RestartPolicy | false;
  /** Awaited before each automatic restart, not before the first start (a Redis node: follow the current master). */
  beforeRestart?: () => Promise<void>;
}
