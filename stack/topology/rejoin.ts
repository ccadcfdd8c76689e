import type { ProcessFiles } from '../layout.js';
import { command } from '../helpers/redis-probe.js';
import { sentinelAuth } from '../helpers/redis-users.js';
import type { ResolvedTopologyOptions } from './options.js';
import { setReplicaOf } from './saved-roles.js';

/** The master most running Sentinels name now, as host:port; undefined when none answers. */
export async function sentinelsMaster(o: ResolvedTopologyOptions): Promise<{ host: string; port: number } | undefined> {
  const ask = (port: number) =>
    command(o.host, port, sentinelAuth(o.secrets), ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', o.masterName]);
  const replies = await Promise.allSettled(o.sentinelPorts.map(ask));
  const votes = new Map<string, number>();
  for (const r of replies) {
    if (r.status === 'fulfilled' && Array.isArray(r.value) && r.value.length === 2) {
      const address = `${r.value[0]}:${r.value[1]}`;
      votes.set(address, (votes.get(address) ?? 0) + 1);
    }
  }
  const [address] = [...votes.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  if (address === undefined) return undefined;
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

/**
 * Before a node starts again: its config made to say what the Sentinels say now. A master that crashed while
 * the Sentinels promoted another must come back as that one's replica, never as a second master; a node the
 * Sentinels still name (a crash shorter than down-after) comes back as the master, with its data.
 * Returns the line to log.
 */
export async function followSentinels(files: ProcessFiles, port: number, o: ResolvedTopologyOptions): Promise<string> {
  const master = await sentinelsMaster(o);
  if (!master) return `${files.name}: no Sentinel answered; it starts as its config says`;
  if (master.host === o.host && master.port === port) {
    await setReplicaOf(files, o.host, undefined);
    return `${files.name}: the Sentinels still name it master; it starts as master from its data`;
  }
  if (master.host !== o.host || !o.redisPorts.includes(master.port)) {
    const named = `${master.host}:${master.port}`;
    return `${files.name}: the Sentinels name ${named}, no node of this stack; it starts as its config says`;
  }
  await setReplicaOf(files, o.host, master.port);
  return `${files.name}: starts as a replica of redis-${master.port}, the master the Sentinels name`;
}
