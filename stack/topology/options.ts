import path from 'node:path';
import { DEFAULTS } from '../../src/config-defaults.js';
import { secretProblem, SECRET_VARIABLES, type RedisSecrets } from '../helpers/redis-users.js';
import { DEFAULT_LOG_ROTATION, type LogRotation } from '../supervisor/log-file.js';

export interface TopologyOptions {
  /** Absolute state dir: each node gets dir/redis-<port>/, each Sentinel dir/sentinel-<port>/ (layout.ts). */
  dir: string;
  host?: string;
  /** The first is the initial master, the rest its replicas. */
  redisPorts: number[];
  sentinelPorts: number[];
  masterName?: string;
  /** The passwords of the nodes' ACL users (redis/users.conf) and the Sentinels' own. */
  secrets: RedisSecrets;
  /** The service's KEY_PREFIX: its user may touch only keys that start with it. */
  keyPrefix?: string;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  quorum?: number;
  /** Progress lines. */
  log?: (msg: string) => void;
  /** Each process in its own process group: a terminal's Ctrl-C then reaches only the launcher. */
  detached?: boolean;
  /** How big each log may grow and how many rotated ones are kept. */
  logRotation?: LogRotation;
}

export type ResolvedTopologyOptions = Required<TopologyOptions>;

/** Fills in the defaults and refuses what could not run (the ports and passwords go into config files). */
export function resolveTopologyOptions(opts: TopologyOptions): ResolvedTopologyOptions {
  const o: ResolvedTopologyOptions = {
    ...opts,
    host: opts.host ?? DEFAULTS.host,
    masterName: opts.masterName ?? DEFAULTS.masterName,
    keyPrefix: opts.keyPrefix ?? DEFAULTS.keyPrefix,
    downAfterMs: opts.downAfterMs ?? DEFAULTS.downAfterMs,
    failoverTimeoutMs: opts.failoverTimeoutMs ?? DEFAULTS.failoverTimeoutMs,
    quorum: opts.quorum ?? 2,
    log: opts.log ?? (() => {}),
    detached: opts.detached ?? false,
    logRotation: opts.logRotation ?? DEFAULT_LOG_ROTATION,
  };
  const ports = [...o.redisPorts, ...o.sentinelPorts];
  const refuse = (why: string) => {
    throw new Error(why);
  };
  if (!path.isAbsolute(o.dir)) refuse(`topology dir must be absolute, got ${o.dir}`);
  if (o.redisPorts.length === 0 || o.sentinelPorts.length === 0) {
    refuse('topology needs at least one Redis node and one Sentinel');
  }
  if (new Set(ports).size !== ports.length) refuse(`topology ports must be distinct, got ${ports.join(', ')}`);
  if (o.quorum < 1 || o.quorum > o.sentinelPorts.length) {
    refuse(`quorum ${o.quorum} is impossible with ${o.sentinelPorts.length} Sentinels`);
  }
  for (const [key, name] of Object.entries(SECRET_VARIABLES) as [keyof RedisSecrets, string][]) {
    const problem = secretProblem(name, o.secrets[key]);
    if (problem) refuse(problem);
  }
  return o;
}
