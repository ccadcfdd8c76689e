import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot, type ProcessFiles } from '../layout.js';
import type { ResolvedTopologyOptions } from '../topology/options.js';
import { sentinelAuth, usersTemplateVars } from '../helpers/redis-users.js';
import { topologyProcess, writeConfig } from './redis.js';
import { renderTemplate } from './template.js';

const SENTINEL_TEMPLATE = path.join(repoRoot, 'sentinel', 'sentinel.conf');

/** sentinel/sentinel.conf for this Sentinel: its own port and paths, monitoring the master on masterPort. */
export function sentinelConfig(
  template: string,
  files: ProcessFiles,
  port: number,
  o: ResolvedTopologyOptions,
  masterPort: number,
) {
  return renderTemplate(SENTINEL_TEMPLATE, template, {
    SENTINEL_BIND: o.host,
    SENTINEL_PORT: String(port),
    SENTINEL_ANNOUNCE_HOST: o.host,
    SENTINEL_DIR: files.dir,
    SENTINEL_PIDFILE: files.pid,
    SENTINEL_LOGFILE: '', // stdout: the supervisor writes it to files.log
    SENTINEL_PASSWORD: o.secrets.sentinels,
    MASTER_NAME: o.masterName,
    MASTER_HOST: o.host,
    MASTER_PORT: String(masterPort),
    QUORUM: String(o.quorum),
    DOWN_AFTER_MS: String(o.downAfterMs),
    FAILOVER_TIMEOUT_MS: String(o.failoverTimeoutMs),
    REDIS_SENTINEL_PASSWORD: o.secrets.sentinel,
    SERVICE_PASSWORD_SHA256: usersTemplateVars(o.secrets, o.keyPrefix).SERVICE_PASSWORD_SHA256 as string,
    EXPORTER_PASSWORD_SHA256: usersTemplateVars(o.secrets, o.keyPrefix).EXPORTER_PASSWORD_SHA256 as string,
  });
}

/** The lines of a Sentinel's config that carry credentials. */
export const SENTINEL_CREDENTIAL_LINE =
  /^(requirepass|user|sentinel\s+(sentinel-pass|sentinel-user|auth-pass|auth-user))\s/i;

/**
 * One Sentinel on port. Its config is its own: Sentinel appends its id and what it learns to it. A new
 * config (or a fresh one, when what it saved names no node that can be master) monitors masterPort.
 */
export async function sentinel(
  files: ProcessFiles,
  port: number,
  o: ResolvedTopologyOptions,
  { masterPort, fresh }: { masterPort: number; fresh: boolean },
) {
  const template = await readFile(SENTINEL_TEMPLATE, 'utf8');
  if (fresh) await rm(files.conf, { force: true });
  const render = () => sentinelConfig(template, files, port, o, masterPort);
  const kept = await writeConfig(files, render, SENTINEL_CREDENTIAL_LINE);
  if (kept) o.log(`${files.name}: keeping its existing ${files.conf} (its users and passwords renewed)`);
  return topologyProcess('redis-sentinel', files, port, sentinelAuth(o.secrets), o);
}
