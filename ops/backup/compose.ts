import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ComposeContainers, names, type Container } from '../deployment/compose-containers.js';
import type { ComposeDeployment } from '../deployment/compose.js';
import type { Member } from '../deployment/deployment.js';
import { ArchiveError } from './archive.js';
import { checkSentinels, waitForNodesInSync, waitForSentinels } from './compose-locate.js';
import { imageRedisVersion, placeSnapshot, rollBackSnapshot } from './compose-volume.js';
import { countOn, describeCounts, type KeyCounts } from './counts.js';
import { ARCHIVE_ENTRIES, versionProblem, type Manifest } from './manifest.js';
import { PRE_RESTORE } from './node-files.js';
import { checkEveryNode, verifyArchive } from './restore.js';

/**
 * `npm run restore -- FILE --compose`: the local stack's restore (restore.ts) for a Docker Compose deployment of
 * compose.yml — the same archive, the same checks. (Its backup is takeBackup's, through the project's deployment.)
 */

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
  deployment: ComposeDeployment,
  file: string,
  { force, log }: { force: boolean; log: (msg: string) => void },
): Promise<ComposeRestoreResult> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'evergreen-restore-'));
  try {
    const { manifest, snapshot } = await verifyArchive(file, work, deployment.keyPrefix, log);
    const containers = await ComposeContainers.find(deployment.project.name);
    const [nodes, sentinels] = await Promise.all([containers.nodes(), containers.sentinels()]);
    const theirs = await imageRedisVersion(nodes[0] as Container);
    const problem = versionProblem(manifest.redis.version, manifest.redis.rdbVersion, theirs);
    if (problem) throw new ArchiveError(`${file} is refused for the project's image: ${problem}. Nothing was changed.`);
    await checkSentinels(deployment, sentinels);
    if (!force) await refuseIfHoldsData(deployment, nodes);
    const others = containers.others.join(', ');
    const keep = others
      ? `; ${others} keep running (the API instances reconnect through the Sentinels once the nodes are back; ` +
        'until then, requests that need Redis fail)'
      : '';
    log(`stopping ${names(sentinels)}, then ${names(nodes)}${keep}`);
    await containers.stop(sentinels);
    await containers.stop(nodes);
    const restoreId = randomUUID();
    try {
      const sha256 = manifest.files[ARCHIVE_ENTRIES.snapshot].sha256;
      for (const node of nodes) await placeSnapshot(node, snapshot, sha256, restoreId);
      log(`snapshot placed in ${names(nodes)}; the data it replaced is kept in each one's /data/${PRE_RESTORE}/`);
      return { manifest, nodes: await startAndCount(containers, deployment, manifest, log) };
    } catch (err) {
      log(`restore failed (${(err as Error).message}): putting every node's previous data back`);
      await rollBack(containers, restoreId, log).catch((rollbackErr: Error) => {
        throw new Error(`${(err as Error).message}; and putting the data back failed too: ${rollbackErr.message}`);
      });
      throw err;
    }
  } finally {
    // A refused archive's extraction may still be closing a file it wrote (tar rejects first): ENOTEMPTY, retried.
    await rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

/**
 * The nodes started and counted before the Sentinels start: the API instances find the master only through the
 * Sentinels, so no purchase can land between the restore and its check. Then the Sentinels, on the same master.
 */
async function startAndCount(
  containers: ComposeContainers,
  deployment: ComposeDeployment,
  manifest: Manifest,
  log: (msg: string) => void,
) {
  const nodes = await containers.nodes();
  log(`starting ${names(nodes)} and waiting until they are healthy and in sync`);
  await containers.startHealthy(nodes);
  const ordered = await waitForNodesInSync(deployment);
  const counted = await checkEveryNode(deployment, ordered, manifest, log);
  const master = ordered[0] as Member;
  const sentinels = await containers.sentinels();
  log(`every node holds what the manifest says; starting ${names(sentinels)} and waiting until they are healthy`);
  await containers.startHealthy(sentinels);
  await waitForSentinels(deployment, master);
  log(`every Sentinel names ${master.name} as the master`);
  return counted;
}

/** The nodes, once healthy the Sentinels, once healthy too (compose.yml's depends_on order). */
async function startAll(containers: ComposeContainers, log: (msg: string) => void) {
  const nodes = await containers.nodes();
  log(`starting ${names(nodes)} and waiting until they are healthy`);
  await containers.startHealthy(nodes);
  const sentinels = await containers.sentinels();
  log(`starting ${names(sentinels)} and waiting until they are healthy`);
  await containers.startHealthy(sentinels);
}

async function rollBack(containers: ComposeContainers, restoreId: string, log: (msg: string) => void) {
  await containers.stop(await containers.sentinels());
  const nodes = await containers.nodes();
  await containers.stop(nodes);
  for (const node of nodes) log(`  ${node.service}: ${await rollBackSnapshot(node, restoreId)}`);
  await startAll(containers, log);
  log('the nodes and Sentinels run again on the data they had before');
}

/** Refuses (throws) when any node holds data; a stopped node cannot tell, so it refuses too. */
async function refuseIfHoldsData(deployment: ComposeDeployment, nodes: Container[]): Promise<void> {
  const project = deployment.project.name;
  const stopped = nodes.find((node) => !node.running);
  if (stopped) {
    throw new Error(
      `${stopped.service} of the Compose project "${project}" is stopped, so what it holds cannot be seen. ` +
        'Start the project (docker compose start), or run again with --force to replace whatever it holds. ' +
        'Nothing was changed.',
    );
  }
  for (const node of await deployment.nodes()) {
    const counts = await countOn(node, deployment.redisAdmin, deployment.keyPrefix);
    if (counts.persistentKeys > 0) {
      throw new Error(
        `The Compose project "${project}" holds data (${describeCounts(counts)} on ${node.name}); a ` +
          "restore replaces all of it. Run again with --force to do so (what it replaces is kept in each node's " +
          `/data/${PRE_RESTORE}/ until the next restore). Nothing was changed.`,
      );
    }
  }
}
