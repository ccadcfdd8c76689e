import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, type ProcessFiles } from '../layout.js';
import type { ResolvedTopologyOptions } from '../topology/options.js';
import { topologyProcess, writeConfigOnce } from './redis.js';
import { renderTemplate } from './template.js';

const SENTINEL_TEMPLATE = path.join(repoRoot, 'sentinel', 'sentinel.conf');

/** sentinel/sentinel.conf for this Sentinel: its own port and paths, the first Redis port as the master. */
export function sentinelConfig(template: string, files: ProcessFiles, port: number, o: ResolvedTopologyOptions) {
  return renderTemplate(SENTINEL_TEMPLATE, template, {
    SENTINEL_BIND: o.host,
    SENTINEL_PORT: String(port),
    SENTINEL_ANNOUNCE_HOST: o.host,
    SENTINEL_DIR: files.dir,
    SENTINEL_PIDFILE: files.pid,
    SENTINEL_LOGFILE: '', // stdout: the supervisor writes it to files.log
    SENTINEL_PASSWORD: o.sentinelPassword ?? '',
    MASTER_NAME: o.masterName,
    MASTER_HOST: o.host,
    MASTER_PORT: String(o.redisPorts[0]),
    QUORUM: String(o.quorum),
    DOWN_AFTER_MS: String(o.downAfterMs),
    FAILOVER_TIMEOUT_MS: String(o.failoverTimeoutMs),
    REDIS_PASSWORD: o.redisPassword ?? '',
  });
}

/** One Sentinel on port. Its config is its own: Sentinel appends its id and what it learns to it. */
export async function sentinel(files: ProcessFiles, port: number, o: ResolvedTopologyOptions) {
  const template = await readFile(SENTINEL_TEMPLATE, 'utf8');
  const kept = await writeConfigOnce(files, () => sentinelConfig(template, files, port, o));
  if (kept) o.log(`${files.name}: keeping its existing ${files.conf}`);
  return topologyProcess('redis-sentinel', files, port, o.sentinelPassword, o);
}
