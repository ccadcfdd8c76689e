import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, type ProcessFiles } from '../layout.js';
import { command } from '../redis-probe.js';
import { Supervised } from '../supervisor/supervised.js';
import type { ResolvedTopologyOptions } from '../topology/options.js';

const SHARED_REDIS_CONF = path.join(repoRoot, 'redis', 'redis.conf');

/** Kinds of process the topology runs: Redis nodes here, Sentinels in sentinel.ts. */
export interface TopologyProcess {
  process: Supervised;
  files: ProcessFiles;
  port: number;
  password: string | undefined;
}

// Longer than Redis's own shutdown-timeout (10 s), during which a master waits for lagging replicas.
export const REDIS_STOP_GRACE_MS = 15_000;
export const REDIS_START_TIMEOUT_MS = 30_000;

/** redis/redis.conf included, with this node's port, paths and secrets; replicaof unless it is the first master. */
export function redisConfig(files: ProcessFiles, port: number, o: ResolvedTopologyOptions, masterPort?: number) {
  const { host, redisPassword } = o;
  const lines = [
    `include "${SHARED_REDIS_CONF}"`,
    `port ${port}`,
    `bind ${host}`,
    'daemonize no',
    `dir "${files.dir}"`,
    `pidfile "${files.pid}"`,
    `replica-announce-ip ${host}`,
    ...(redisPassword ? [`requirepass "${redisPassword}"`, `masterauth "${redisPassword}"`] : []),
    ...(masterPort === undefined ? [] : [`replicaof ${host} ${masterPort}`]),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Writes conf only for a fresh folder: Redis and Sentinel rewrite their configs with the roles Sentinel
 * chose, and those must survive a restart. Says whether it kept an existing one.
 */
export async function writeConfigOnce(files: ProcessFiles, render: () => string): Promise<boolean> {
  await mkdir(files.dir, { recursive: true, mode: 0o700 }); // configs and data hold passwords
  if (existsSync(files.conf)) return true;
  await writeFile(files.conf, render(), { mode: 0o600 });
  return false;
}

/** A process of the topology that answers PING once it is up. */
export function topologyProcess(
  program: 'redis-server' | 'redis-sentinel',
  files: ProcessFiles,
  port: number,
  password: string | undefined,
  o: ResolvedTopologyOptions,
): TopologyProcess {
  const supervised = new Supervised(
    {
      name: files.name,
      command: program,
      // To stdout, which the supervisor writes to files.log and rotates; overrides a kept config's logfile.
      args: [files.conf, '--logfile', ''],
      log: files.log,
      rotation: o.logRotation,
      cwd: files.dir,
      repeatStopMs: 250,
      graceMs: REDIS_STOP_GRACE_MS,
      detached: o.detached,
      ready: () => command(o.host, port, password, ['PING']),
      readyTimeoutMs: REDIS_START_TIMEOUT_MS,
    },
    (err) => o.log(err.message),
  );
  return { process: supervised, files, port, password };
}

/** One Redis node on port; replicaof the first port unless it is that one. */
export async function redisNode(files: ProcessFiles, port: number, o: ResolvedTopologyOptions) {
  const master = o.redisPorts[0];
  const kept = await writeConfigOnce(files, () => redisConfig(files, port, o, port === master ? undefined : master));
  if (kept) o.log(`${files.name}: keeping its existing ${files.conf}`);
  return topologyProcess('redis-server', files, port, o.redisPassword, o);
}
