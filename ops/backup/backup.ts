import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pruneArchives, readHead, sha256Of, writeArchive } from './archive.js';
import { describeCounts } from './counts.js';
import { ARCHIVE_ENTRIES, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest } from './manifest.js';
import { parseRdbHeader } from './rdb-header.js';
import { formatAddress } from '../../src/redis/failover-fence.js';
import type { DeploymentView } from '../deployment/deployment.js';
import { locateReplica, streamSnapshot } from './replica-source.js';
import { countInScratchRedis } from './scratch.js';

export interface BackupOptions {
  /** Where the archive goes (created if missing). */
  dir: string;
  /** How many archives to keep in dir, this one included. */
  keep: number;
  log: (msg: string) => void;
}

export interface BackupResult {
  file: string;
  manifest: Manifest;
  /** Archives removed to keep `keep`. */
  pruned: string[];
}

export const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The manifest's name of a deployment, `local (<state folder>)` or `compose (<project>)`, as archives have it. */
const deploymentName = (view: DeploymentView) => `${view.kind} (${view.where})`;

/**
 * One backup: a snapshot made by a replica in sync (never the master), checked and counted by loading it into
 * a throwaway Redis, archived with its manifest, then older archives beyond `keep` removed. The view says where
 * the Sentinels and nodes are, how to sign in to them, and what the counts count (its key prefix).
 */
export async function takeBackup(view: DeploymentView, opts: BackupOptions): Promise<BackupResult> {
  const { log } = opts;
  const located = await locateReplica(view);
  const { master, replica, replicaAt } = located;
  const reached = formatAddress(replicaAt) === formatAddress(replica) ? '' : ` (at ${formatAddress(replicaAt)})`;
  log(
    `master ${formatAddress(master)} (offset ${located.masterOffset}); snapshot from its replica ` +
      `${formatAddress(replica)}${reached}, ${located.replicaLag} bytes behind`,
  );
  const work = await mkdtemp(path.join(os.tmpdir(), 'evergreen-backup-'));
  try {
    const snapshot = path.join(work, ARCHIVE_ENTRIES.snapshot);
    const createdAt = new Date().toISOString();
    await streamSnapshot(replicaAt, view.redisAdmin, snapshot, (bytes) => log(`  received ${megabytes(bytes)}`));
    const bytes = (await stat(snapshot)).size;
    const { rdbVersion, aux } = parseRdbHeader(await readHead(snapshot));
    const replicationOffset = Number(aux['repl-offset']);
    log(`snapshot received: ${megabytes(bytes)}, Redis ${aux['redis-ver']}, replication offset ${replicationOffset}`);
    const { counts } = await countInScratchRedis(snapshot, view.keyPrefix);
    log(`snapshot loads in a scratch Redis and holds ${describeCounts(counts)}`);
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_VERSION,
      createdAt,
      keyPrefix: view.keyPrefix,
      source: {
        deployment: deploymentName(view),
        masterName: view.masterName,
        master: formatAddress(master),
        masterRunId: located.masterRunId,
        replica: formatAddress(replica),
        replicationId: aux['repl-id'] ?? 'unknown',
        replicationOffset: Number.isSafeInteger(replicationOffset) ? replicationOffset : 0,
        masterOffset: located.masterOffset,
      },
      redis: { version: aux['redis-ver'] ?? 'unknown', rdbVersion },
      counts,
      files: { [ARCHIVE_ENTRIES.snapshot]: { bytes, sha256: await sha256Of(snapshot) } },
    };
    const file = await writeArchive(opts.dir, manifest, snapshot);
    log(`archive written: ${megabytes((await stat(file)).size)}, its SHA-256 in ${path.basename(file)}.sha256`);
    const pruned = await pruneArchives(opts.dir, opts.keep);
    if (pruned.length > 0) log(`removed ${pruned.length} older archive(s), keeping ${opts.keep}: ${pruned.join(', ')}`);
    return { file, manifest, pruned };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
