import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { formatAddress } from '../../src/redis/failover-fence.js';
import { command, pairs } from '../../stack/helpers/redis-probe.js';
import type { RedisAuth } from '../../stack/helpers/redis-users.js';
import type { Address } from '../../stack/topology/probes.js';
import type { DeploymentView, Member } from '../deployment/deployment.js';

/** The master and the replica a snapshot is taken from, as the Sentinels and the nodes themselves say. */
export interface Located {
  /** As the Sentinels name it (Compose: a service name). */
  master: Address;
  masterRunId: string;
  /** The master's replication offset when it was asked. */
  masterOffset: number;
  /** As the Sentinels name it. */
  replica: Address;
  /** Where this host reaches that replica (the deployment's node at that name). */
  replicaAt: Address;
  /** How far the replica's offset was behind the master's, in bytes. */
  replicaLag: number;
}

/**
 * Asks the Sentinels for the master and its replicas, and picks the replica to snapshot: one no Sentinel flags
 * (down, disconnected), whose link to the master is up by its own ROLE, and the most advanced. A backup never forks
 * the master: with no such replica it fails instead. Each node a Sentinel or a replica names is reached where the
 * deployment says (Compose's Sentinels announce service names that only the project's network resolves).
 */
export async function locateReplica(view: DeploymentView): Promise<Located> {
  const errors: string[] = [];
  for (const sentinel of await view.sentinels()) {
    try {
      return await locateThrough(view, sentinel);
    } catch (err) {
      errors.push(`${sentinel.name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`cannot find a replica to take the snapshot from (${errors.join('; ')})`);
}

async function locateThrough(view: DeploymentView, sentinel: Member): Promise<Located> {
  const ask = (a: Address, auth: RedisAuth, args: [string, ...string[]]) => command(a.host, a.port, auth, args);
  const master = pairs(await ask(sentinel, view.sentinelAuth, ['SENTINEL', 'MASTER', view.masterName]));
  if (master.flags !== 'master') throw new Error(`it flags master ${view.masterName} "${master.flags ?? 'unknown'}"`);
  const masterAddress = { host: String(master.ip), port: Number(master.port) };
  const replicas = (await ask(sentinel, view.sentinelAuth, ['SENTINEL', 'REPLICAS', view.masterName])) as unknown[];
  const healthy = replicas.map(pairs).filter((r) => r.flags === 'slave' && r['master-link-status'] === 'ok');
  const masterNode = await view.nodeAt(masterAddress.host, masterAddress.port);
  if (!masterNode) throw new Error(`its master ${formatAddress(masterAddress)} is none of the deployment's nodes`);
  const isMaster = async (named: Address) => (await view.nodeAt(named.host, named.port))?.name === masterNode.name;
  const masterInfo = String(await ask(masterNode, view.redisAdmin, ['INFO']));
  const masterOffset = Number(/^master_repl_offset:(\d+)/m.exec(masterInfo)?.[1] ?? 0);
  const masterRunId = /^run_id:(\w+)/m.exec(masterInfo)?.[1] ?? 'unknown';
  // Each candidate's offset from its own ROLE, now (the Sentinels' figures are up to a second old): the most
  // advanced holds every write any replica had confirmed, so every 201 given before the backup began.
  let best: { replica: Address; replicaAt: Address; offset: number } | undefined;
  for (const candidate of healthy) {
    const replica = { host: String(candidate.ip), port: Number(candidate.port) };
    const node = await view.nodeAt(replica.host, replica.port).catch(() => undefined);
    if (!node || node.name === masterNode.name) continue;
    // A replica's ROLE: ['slave', masterHost, masterPort, 'connected' once synced, offset].
    const role = await ask(node, view.redisAdmin, ['ROLE']).catch(() => undefined);
    if (!Array.isArray(role) || role[0] !== 'slave' || role[3] !== 'connected') continue;
    if (!(await isMaster({ host: String(role[1]), port: Number(role[2]) }))) continue;
    const replicaAt = { host: node.host, port: node.port };
    if (!best || Number(role[4]) > best.offset) best = { replica, replicaAt, offset: Number(role[4]) };
  }
  if (best) {
    const { replica, replicaAt, offset } = best;
    const replicaLag = Math.max(0, masterOffset - offset);
    return { master: masterAddress, masterRunId, masterOffset, replica, replicaAt, replicaLag };
  }
  throw new Error(`no replica of ${formatAddress(masterAddress)} is online and in sync`);
}

const PROGRESS_MS = 1000;

/**
 * A fresh snapshot made by the replica, streamed into file by redis-cli --rdb (Redis's own tool: it asks the
 * replica for a full sync with REPLCONF rdb-only, so the replica forks and streams one RDB and no more). The
 * password goes through REDISCLI_AUTH, never the command line. onProgress hears the bytes so far, each second.
 */
export async function streamSnapshot(
  replica: Address,
  auth: RedisAuth,
  file: string,
  onProgress: (bytes: number) => void,
): Promise<void> {
  const args = ['-h', replica.host, '-p', String(replica.port), ...(auth.username ? ['--user', auth.username] : [])];
  const child = spawn('redis-cli', [...args, '--rdb', file], {
    env: { ...process.env, REDISCLI_AUTH: auth.password },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const progress = setInterval(async () => {
    const size = (await stat(file).catch(() => undefined))?.size;
    if (size !== undefined) onProgress(size);
  }, PROGRESS_MS);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    // redis-cli prints "Transfer finished with success" and exits 0 only once the whole RDB is in.
    if (code !== 0 || !/Transfer finished with success/.test(output)) {
      const why = output.trim().split('\n').slice(-2).join(' / ') || `exit code ${code}`;
      throw new Error(`the snapshot from ${formatAddress(replica)} failed: ${why}`);
    }
  } finally {
    clearInterval(progress);
  }
}
