import { command } from '../../stack/helpers/redis-probe.js';
import { waitFor } from '../../stack/helpers/wait.js';
import type { Container } from '../deployment/compose-containers.js';
import { announcedMaster, masterNamedBy, type DeploymentView, type Member } from '../deployment/deployment.js';

/**
 * A Compose project's nodes and Sentinels during a restore, as its deployment reaches them from this host (the
 * Sentinels announce service names, redis-2:6379, which only the project's network resolves: the deployment finds
 * the container). Names, not addresses, go into reports: an address changes whenever a container starts again.
 */

const SYNCED_TIMEOUT_MS = 60_000;

/**
 * Before a restore touches anything: the running Sentinels answer with these credentials and know this master
 * name (a wrong REDIS_MASTER_NAME or SENTINEL_PASSWORD would otherwise surface only once every node is replaced).
 */
export async function checkSentinels(deployment: DeploymentView, containers: Container[]) {
  const running = new Set(containers.filter((c) => c.running).map((c) => c.service));
  for (const sentinel of (await deployment.sentinels()).filter((s) => running.has(s.name))) {
    const announced = await announcedMaster(deployment, sentinel).catch((err: Error) => {
      throw new Error(`${sentinel.name} does not answer (${err.message}). Nothing was changed.`);
    });
    if (!announced) {
      throw new Error(
        `${sentinel.name} knows no master named "${deployment.masterName}" (REDIS_MASTER_NAME). Nothing was changed.`,
      );
    }
  }
}

/**
 * Waits until one node is a master and every other node its replica with the link up (so done loading what it
 * synced), as their own configs say, before any Sentinel runs; the nodes, master first.
 */
export async function waitForNodesInSync(deployment: DeploymentView): Promise<Member[]> {
  return waitFor('one master with every other node its replica in sync', SYNCED_TIMEOUT_MS, async () => {
    const nodes = await deployment.nodes();
    const roles = await Promise.all(
      nodes.map(async (node) => (await command(node.host, node.port, deployment.redisAdmin, ['ROLE'])) as unknown[]),
    );
    const masters = nodes.filter((_, i) => roles[i]?.[0] === 'master');
    if (masters.length !== 1) throw new Error(`${masters.length} nodes say they are a master`);
    const master = masters[0] as Member;
    const replicas = nodes.filter((n) => n.name !== master.name);
    for (const replica of replicas) {
      // A replica's ROLE: ['slave', masterHost, masterPort, 'connected' once synced, offset].
      const r = roles[nodes.indexOf(replica)] ?? [];
      const of = r[0] === 'slave' ? await deployment.nodeAt(String(r[1]), Number(r[2])) : undefined;
      if (r[3] !== 'connected' || of?.name !== master.name) {
        throw new Error(`${replica.name} is not yet a replica of ${master.name} in sync (${r.join(' ')})`);
      }
    }
    return [master, ...replicas];
  });
}

/** Waits until every Sentinel names `master` as the master. */
export async function waitForSentinels(deployment: DeploymentView, master: Member): Promise<void> {
  await waitFor(`every Sentinel to name ${master.name} as the master`, SYNCED_TIMEOUT_MS, async () => {
    const named = await Promise.all((await deployment.sentinels()).map((s) => masterNamedBy(deployment, s)));
    if (named.some((node) => node?.name !== master.name)) {
      throw new Error(`the Sentinels name ${named.map((node) => node?.name ?? 'none').join(', ')}`);
    }
  });
}
