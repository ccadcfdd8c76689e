import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, type ProcessFiles } from '../layout.js';
import { command } from '../helpers/redis-probe.js';
import { adminAuth, usersTemplateVars, type RedisAuth } from '../helpers/redis-users.js';
import { Supervised } from '../supervisor/supervised.js';
import type { ResolvedTopologyOptions } from '../topology/options.js';
import { followSentinels } from '../topology/rejoin.js';
import { renderTemplate } from './template.js';

const SHARED_REDIS_CONF = path.join(repoRoot, 'redis', 'redis.conf');
const USERS_TEMPLATE = path.join(repoRoot, 'redis', 'users.conf');

/** Kinds of process the topology runs: Redis nodes here, Sentinels in sentinel.ts. */
export interface TopologyProcess {
  process: Supervised;
  files: ProcessFiles;
  port: number;
  /** How the launcher's own probes authenticate: the admin user on a node, the default user on a Sentinel. */
  auth: RedisAuth;
}

// Longer than Redis's own shutdown-timeout (10 s), during which a master waits for lagging replicas.
export const REDIS_STOP_GRACE_MS = 15_000;
export const REDIS_START_TIMEOUT_MS = 30_000;

/**
 * redis/redis.conf included, with this node's port and paths, replicaof unless it is the first master, and
 * the ACL users of redis/users.conf.
 */
export function redisConfig(
  files: ProcessFiles,
  port: number,
  o: ResolvedTopologyOptions,
  usersTemplate: string,
  masterPort?: number,
) {
  const { host } = o;
  const lines = [
    `include "${SHARED_REDIS_CONF}"`,
    `port ${port}`,
    `bind ${host}`,
    'daemonize no',
    `dir "${files.dir}"`,
    `pidfile "${files.pid}"`,
    `replica-announce-ip ${host}`,
    ...(masterPort === undefined ? [] : [`replicaof ${host} ${masterPort}`]),
  ];
  const users = renderTemplate(USERS_TEMPLATE, usersTemplate, usersTemplateVars(o.secrets, o.keyPrefix));
  return `${lines.join('\n')}\n${users}`;
}

/** The lines of a Redis node's config that carry credentials (redis/users.conf's). */
export const REDIS_CREDENTIAL_LINE = /^(user|masteruser|masterauth|requirepass)\s/i;

/**
 * Writes a fresh folder's conf from render(). A kept conf (Redis and Sentinel rewrite theirs with the roles
 * Sentinel chose, which must survive a restart) keeps everything but its credential lines, which are replaced
 * by render()'s: a password changed in the environment takes effect on the next start. Says whether it kept one.
 */
export async function writeConfig(files: ProcessFiles, render: () => string, credentialLine: RegExp): Promise<boolean> {
  await mkdir(files.dir, { recursive: true, mode: 0o700 }); // configs and data hold passwords
  const rendered = render();
  if (!existsSync(files.conf)) {
    await writeFile(files.conf, rendered, { mode: 0o600 });
    return false;
  }
  const isCredential = (line: string) => credentialLine.test(line.trim());
  const kept = (await readFile(files.conf, 'utf8')).split('\n').filter((line) => !isCredential(line));
  while (kept.at(-1) === '') kept.pop();
  const fresh = rendered.split('\n').filter(isCredential);
  await writeFile(files.conf, `${[...kept, ...fresh].join('\n')}\n`, { mode: 0o600 });
  return true;
}

/** A process of the topology that answers PING once it is up. */
export function topologyProcess(
  program: 'redis-server' | 'redis-sentinel',
  files: ProcessFiles,
  port: number,
  auth: RedisAuth,
  o: ResolvedTopologyOptions,
  beforeRestart?: () => Promise<void>,
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
      ready: () => command(o.host, port, auth, ['PING']),
      readyTimeoutMs: REDIS_START_TIMEOUT_MS,
      beforeRestart,
    },
    (err) => o.log(err.message),
  );
  return { process: supervised, files, port, auth };
}

/**
 * One Redis node on port; a new one replicates the first port unless it is that one (start-up then repairs
 * every node's role: saved-roles.ts). After a crash it comes back in the role the Sentinels give it.
 */
export async function redisNode(files: ProcessFiles, port: number, o: ResolvedTopologyOptions) {
  const master = o.redisPorts[0];
  const usersTemplate = await readFile(USERS_TEMPLATE, 'utf8');
  const render = () => redisConfig(files, port, o, usersTemplate, port === master ? undefined : master);
  const kept = await writeConfig(files, render, REDIS_CREDENTIAL_LINE);
  if (kept) o.log(`${files.name}: keeping its existing ${files.conf} (its users and passwords renewed)`);
  const rejoin = async () => o.log(await followSentinels(files, port, o));
  return topologyProcess('redis-server', files, port, adminAuth(o.secrets), o, rejoin);
}
