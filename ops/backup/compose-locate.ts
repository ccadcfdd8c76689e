import { Redis } from 'ioredis';
import { command } from '../../stack/helpers/redis-probe.js';
import type { RedisAuth } from '../../stack/helpers/redis-users.js';
import type { Address } from '../../stack/topology/probes.js';
import { waitFor } from '../../stack/helpers/wait.js';
import {
  addressOf,
  findNode,
  NODE_PORT,
  SENTINEL_PORT,
  type ComposeContainers,
  type Container,
} from '../deployment/compose-containers.js';
import { countKeys, type KeyCounts } from './counts.js';

/**
 * A Compose project's nodes and Sentinels during a restore, reached from this host. The Sentinels announce
 * service names (redis-2:6379), which only the project's network resolves: each is looked up among the project's
 * containers and reached on that container's address. Names, not addresses, go into reports: an address changes
 * whenever a container starts again.
 */

export interface ComposeAuth {
  /** The Sentinels' default user (SENTINEL_PASSWORD). */
  sentinels: RedisAuth;
  /** The operators' user `admin` on the nodes (REDIS_ADMIN_PASSWORD). */
  nodes: RedisAuth;
}

const SYNCED_TIMEOUT_MS = 60_000;

/**
 * Before a restore touches anything: the running Sentinels answer with these credentials and know this master
 * name (a wrong REDIS_MASTER_NAME or SENTINEL_PASSWORD would otherwise surface only once every node is replaced).
 */
export async function checkSentinels(deployment: ComposeContainers, masterName: string, auth: RedisAuth) {
  for (const sentinel of (await deployment.sentinels()).filter((s) => s.running)) {
    const args: [string, ...string[]] = ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName];
    const reply = await command(...at(addressOf(sentinel, SENTINEL_PORT)), auth, args).catch((err: Error) => {
      throw new Error(`${sentinel.service} does not answer (${err.message}). Nothing was changed.`);
    });
    if (!Array.isArray(reply)) {
      throw new Error(
        `${sentinel.service} knows no master named "${masterName}" (REDIS_MASTER_NAME). Nothing was changed.`,
      );
    }
  }
}

/**
 * Waits until one node is a master and every other node its replica with the link up (so done loading what it
 * synced), as their own configs say, before any Sentinel runs; the nodes, master first.
 */
export async function waitForNodesInSync(deployment: ComposeContainers, auth: RedisAuth): Promise<Container[]> {
  return waitFor('one master with every other node its replica in sync', SYNCED_TIMEOUT_MS, async () => {
    const nodes = await deployment.nodes();
    const roles = await Promise.all(
      nodes.map(async (node) => (await command(...at(addressOf(node, NODE_PORT)), auth, ['ROLE'])) as unknown[]),
    );
    const masters = nodes.filter((_, i) => roles[i]?.[0] === 'master');
    if (masters.length !== 1) throw new Error(`${masters.length} nodes say they are a master`);
    const master = masters[0] as Container;
    const replicas = nodes.filter((n) => n.id !== master.id);
    for (const replica of replicas) {
      // A replica's ROLE: ['slave', masterHost, masterPort, 'connected' once synced, offset].
      const r = roles[nodes.indexOf(replica)] ?? [];
      if (r[0] !== 'slave' || r[3] !== 'connected' || findNode(nodes, String(r[1]))?.id !== master.id) {
        throw new Error(`${replica.service} is not yet a replica of ${master.service} in sync (${r.join(' ')})`);
      }
    }
    return [master, ...replicas];
  });
}

/** Waits until every Sentinel names `master` as the master. */
export async function waitForSentinels(
  deployment: ComposeContainers,
  masterName: string,
  auth: RedisAuth,
  master: Container,
): Promise<void> {
  await waitFor(`every Sentinel to name ${master.service} as the master`, SYNCED_TIMEOUT_MS, async () => {
    const [nodes, sentinels] = await Promise.all([deployment.nodes(), deployment.sentinels()]);
    const named = await Promise.all(
      sentinels.map(async (s) => {
        const args: [string, ...string[]] = ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName];
        const reply = await command(...at(addressOf(s, SENTINEL_PORT)), auth, args);
        return Array.isArray(reply) ? String(reply[0]) : 'none';
      }),
    );
    const others = named.filter((host) => findNode(nodes, host)?.id !== master.id);
    if (others.length > 0) throw new Error(`the Sentinels name ${named.join(', ')}`);
  });
}

const at = (a: Address): [string, number] => [a.host, a.port];

/** The counts on one node (a replica too), as the admin user. */
export async function countAt(node: Container, auth: RedisAuth, keyPrefix: string): Promise<KeyCounts> {
  const { host, port } = addressOf(node, NODE_PORT);
  const redis = new Redis({ host, port, ...auth, lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await countKeys(redis, keyPrefix);
  } catch (err) {
    throw new Error(`${node.service} (${host}:${port}): ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}
