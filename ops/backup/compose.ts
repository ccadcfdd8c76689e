import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { StackConfig } from '../../stack/config.js';
import { assertDockerReachable } from '../../stack/compose/docker-cli.js';
import { adminAuth, sentinelAuth, SECRET_VARIABLES, type RedisSecrets } from '../../stack/helpers/redis-users.js';
import type { Address } from '../../stack/topology/probes.js';
import { ArchiveError } from './archive.js';
import { takeBackup, type BackupResult } from './backup.js';
import { checkSentinels, countAt, waitForNodesInSync, waitForSentinels, type ComposeAuth } from './compose-locate.js';
import {
  addressOf,
  ComposeContainers,
  names,
  nodeNamed,
  SENTINEL_PORT,
  type Container,
} from '../deployment/compose-containers.js';
import { imageRedisVersion, placeSnapshot, rollBackSnapshot } from './compose-volume.js';
import { countDifferences, describeCounts, type KeyCounts } from './counts.js';
import { ARCHIVE_ENTRIES, versionProblem, type Manifest } from './manifest.js';
import { PRE_RESTORE } from './node-files.js';
import { verifyArchive } from './restore.js';

/**
 * `npm run backup -- --compose` and `npm run restore -- FILE --compose`: the local stack's backup and restore
 * (backup.ts, restore.ts) for a Docker Compose deployment of compose.yml — the same archive, the same checks.
 */

export interface ComposeTarget {
  /** The Compose project's name. */
  project: string;
  auth: ComposeAuth;
  masterName: string;
  keyPrefix: string;
}

/** The passwords the project runs with (the environment or .env, as Compose reads them); only two are needed. */
export function composeTarget(config: StackConfig, project: string): ComposeTarget {
  const needed: (keyof RedisSecrets)[] = ['admin', 'sentinels'];
  const missing = needed.filter((key) => !config.redisSecrets[key]).map((key) => SECRET_VARIABLES[key]);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} must be set (in the environment or .env) to what the Compose project ` +
        `"${project}" runs with: backup and restore sign in to its Sentinels and to its nodes as user admin.`,
    );
  }
  const secrets = config.redisSecrets as RedisSecrets;
  return {
    project,
    auth: { sentinels: sentinelAuth(secrets), nodes: adminAuth(secrets) },
    masterName: config.masterName,
    keyPrefix: config.keyPrefix,
  };
}

export const composeDeploymentName = (project: string) => `compose (${project})`;

/**
 * One backup of a Compose project: takeBackup's (backup.ts), from a replica in sync and never the master, each
 * node reached on its container's address since the host cannot resolve the names the Sentinels announce.
 */
export async function backupCompose(
  target: ComposeTarget,
  opts: { dir: string; keep: number; log: (msg: string) => void },
): Promise<BackupResult> {
  await assertDockerReachable();
  const deployment = await ComposeContainers.find(target.project);
  const sentinels = (await deployment.sentinels()).filter((s) => s.running).map((s) => addressOf(s, SENTINEL_PORT));
  const reach = async ({ host, port }: Address) => addressOf(nodeNamed(await deployment.nodes(), host), port);
  const view = { sentinels, masterName: target.masterName, sentinelAuth: target.auth.sentinels, reach };
  return takeBackup(
    { ...view, nodeAuth: target.auth.nodes },
    { ...opts, keyPrefix: target.keyPrefix, deployment: composeDeploymentName(target.project) },
  );
}

export interface ComposeRestoreResult {
  manifest: Manifest;
  /** What each node held once restored, master first. */
  nodes: { node: string; counts: KeyCounts }[];
}

/**
 * A restore of a Compose project, as restoreLocal's: the archive verified first (and against the Redis of the
 * project's image), a project holding data refused without force, its Sentinels then nodes stopped, the snapshot
 * placed in every node's /data (compose-volume.ts), the nodes started and each one's counts checked against the
 * manifest, then the Sentinels started and waited for until they all name the master. A failure after the nodes
 * were touched puts every node's data back. The project's other containers (API instances, NGINX, monitoring)
 * keep running.
 */
export async function restoreCompose(
  target: ComposeTarget,
  file: string,
  { force, log }: { force: boolean; log: (msg: string) => void },
): Promise<ComposeRestoreResult> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'evergreen-restore-'));
  try {
    const { manifest, snapshot } = await verifyArchive(file, work, target.keyPrefix, log);
    await assertDockerReachable();
    const deployment = await ComposeContainers.find(target.project);
    const [nodes, sentinels] = await Promise.all([deployment.nodes(), deployment.sentinels()]);
    const theirs = await imageRedisVersion(nodes[0] as Container);
    const problem = versionProblem(manifest.redis.version, manifest.redis.rdbVersion, theirs);
    if (problem) throw new ArchiveError(`${file} is refused for the project's image: ${problem}. Nothing was changed.`);
    await checkSentinels(deployment, target.masterName, target.auth.sentinels);
    if (!force) await refuseIfHoldsData(target, nodes);
    const others = deployment.others.join(', ');
    const keep = others
      ? `; ${others} keep running (the API instances reconnect through the Sentinels once the nodes are back; ` +
        'until then, requests that need Redis fail)'
      : '';
    log(`stopping ${names(sentinels)}, then ${names(nodes)}${keep}`);
    await deployment.stop(sentinels);
    await deployment.stop(nodes);
    const restoreId = randomUUID();
    try {
      const sha256 = manifest.files[ARCHIVE_ENTRIES.snapshot].sha256;
      for (const node of nodes) await placeSnapshot(node, snapshot, sha256, restoreId);
      log(`snapshot placed in ${names(nodes)}; the data it replaced is kept in each one's /data/${PRE_RESTORE}/`);
      return { manifest, nodes: await startAndCount(deployment, target, manifest, log) };
    } catch (err) {
      log(`restore failed (${(err as Error).message}): putting every node's previous data back`);
      await rollBack(deployment, restoreId, log).catch((rollbackErr: Error) => {
        throw new Error(`${(err as Error).message}; and putting the data back failed too: ${rollbackErr.message}`);
      });
      throw err;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The nodes started and counted before the Sentinels start: the API instances find the master only through the
 * Sentinels, so no purchase can land between the restore and its check. Then the Sentinels, on the same master.
 */
async function startAndCount(
  deployment: ComposeContainers,
  target: ComposeTarget,
  manifest: Manifest,
  log: (msg: string) => void,
) {
  const nodes = await deployment.nodes();
  log(`starting ${names(nodes)} and waiting until they are healthy and in sync`);
  await deployment.startHealthy(nodes);
  const ordered = await waitForNodesInSync(deployment, target.auth.nodes);
  const counted: ComposeRestoreResult['nodes'] = [];
  for (const [i, node] of ordered.entries()) {
    counted.push({
      node: `${node.service}${i === 0 ? ' (master)' : ''}`,
      counts: await countAt(node, target.auth.nodes, target.keyPrefix),
    });
  }
  const wrong = counted.flatMap(({ node, counts }) =>
    countDifferences(manifest.counts, counts).map((d) => `${node}: ${d}`),
  );
  if (wrong.length > 0) throw new Error(`the nodes do not hold what the manifest says: ${wrong.join('; ')}`);
  for (const { node, counts } of counted) log(`  ${node}: ${describeCounts(counts)}`);
  const master = ordered[0] as Container;
  const sentinels = await deployment.sentinels();
  log(`every node holds what the manifest says; starting ${names(sentinels)} and waiting until they are healthy`);
  await deployment.startHealthy(sentinels);
  await waitForSentinels(deployment, target.masterName, target.auth.sentinels, master);
  log(`every Sentinel names ${master.service} as the master`);
  return counted;
}

/** The nodes, once healthy the Sentinels, once healthy too (compose.yml's depends_on order). */
async function startAll(deployment: ComposeContainers, log: (msg: string) => void) {
  const nodes = await deployment.nodes();
  log(`starting ${names(nodes)} and waiting until they are healthy`);
  await deployment.startHealthy(nodes);
  const sentinels = await deployment.sentinels();
  log(`starting ${names(sentinels)} and waiting until they are healthy`);
  await deployment.startHealthy(sentinels);
}

async function rollBack(deployment: ComposeContainers, restoreId: string, log: (msg: string) => void) {
  await deployment.stop(await deployment.sentinels());
  const nodes = await deployment.nodes();
  await deployment.stop(nodes);
  for (const node of nodes) log(`  ${node.service}: ${await rollBackSnapshot(node, restoreId)}`);
  await startAll(deployment, log);
  log('the nodes and Sentinels run again on the data they had before');
}

/** Refuses (throws) when any node holds data; a stopped node cannot tell, so it refuses too. */
async function refuseIfHoldsData(target: ComposeTarget, nodes: Container[]): Promise<void> {
  for (const node of nodes) {
    if (!node.running) {
      throw new Error(
        `${node.service} of the Compose project "${target.project}" is stopped, so what it holds cannot be seen. ` +
          'Start the project (docker compose start), or run again with --force to replace whatever it holds. ' +
          'Nothing was changed.',
      );
    }
    const counts = await countAt(node, target.auth.nodes, target.keyPrefix);
    if (counts.persistentKeys > 0) {
      throw new Error(
        `The Compose project "${target.project}" holds data (${describeCounts(counts)} on ${node.service}); a ` +
          "restore replaces all of it. Run again with --force to do so (what it replaces is kept in each node's " +
          `/data/${PRE_RESTORE}/ until the next restore). Nothing was changed.`,
      );
    }
  }
}
