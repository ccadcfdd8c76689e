/**
 * Who is master after a restart, read from what a stopped topology saved: the Sentinels' configs (their
 * `sentinel monitor` line and config epoch, rewritten at every failover) and the nodes' own data. Redis
 * serves whatever shape the nodes saved — a chain, two masters, a master that no longer exists — but the
 * start-up waits for one master with direct replicas, so the shape is repaired in the configs first.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessFiles } from '../layout.js';

/** One Sentinel's saved belief: the master it monitors and the epoch of that configuration. */
export interface SavedSentinelView {
  sentinel: string;
  host: string;
  port: number;
  epoch: number;
}

/** One node as it was saved: whom its config replicates, and when its data was last written, if it has any. */
export interface SavedNode {
  port: number;
  name: string;
  /** Port of the master its config names (undefined: it says master). */
  replicaOf: number | undefined;
  /** Newest mtime of its RDB and AOF files; undefined when it holds no data (a new or wiped node). */
  dataWrittenAt: number | undefined;
}

/** The master to start with, why, and whether the Sentinels' saved configs must be started afresh. */
export interface RolePlan {
  master: number;
  why: string;
  /** The Sentinels' configs name no node that can be master: they must monitor `master` from a fresh config. */
  resetSentinels: boolean;
}

const REPLICAOF_LINE = /^\s*(replicaof|slaveof)\s+(\S+)\s+(\d+)/i;

/** What the Sentinel at files saved about masterName, if it saved anything. */
export async function readSentinelView(
  files: ProcessFiles,
  masterName: string,
): Promise<SavedSentinelView | undefined> {
  if (!existsSync(files.conf)) return undefined;
  let monitor: { host: string; port: number } | undefined;
  let epoch = 0;
  for (const line of (await readFile(files.conf, 'utf8')).split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0]?.toLowerCase() !== 'sentinel' || words[2] !== masterName) continue;
    if (words[1] === 'monitor') monitor = { host: words[3] ?? '', port: Number(words[4]) };
    if (words[1] === 'config-epoch') epoch = Number(words[3]) || 0;
  }
  return monitor && { sentinel: files.name, ...monitor, epoch };
}

/** A node's saved replication and data, from its config and its folder. */
export async function readSavedNode(files: ProcessFiles, port: number): Promise<SavedNode> {
  const conf = existsSync(files.conf) ? await readFile(files.conf, 'utf8') : '';
  const replicaof = conf
    .split('\n')
    .map((line) => REPLICAOF_LINE.exec(line))
    .filter((m) => m !== null)
    .at(-1);
  return { port, name: files.name, replicaOf: replicaof ? Number(replicaof[3]) : undefined, ...dataOf(files.dir) };
}

function dataOf(dir: string): { dataWrittenAt: number | undefined } {
  const aofDir = path.join(dir, 'appendonlydir');
  const aofs = existsSync(aofDir) ? readdirSync(aofDir).map((f) => path.join(aofDir, f)) : [];
  const files = [path.join(dir, 'dump.rdb'), ...aofs].filter((f) => existsSync(f) && statSync(f).size > 0);
  // An AOF manifest alone (no base, empty increments) is a node that never held a key.
  const holding = files.filter((f) => !f.endsWith('.manifest'));
  if (holding.length === 0) return { dataWrittenAt: undefined };
  return { dataWrittenAt: Math.max(...files.map((f) => statSync(f).mtimeMs)) };
}

/**
 * The master to start with. The Sentinels' view with the highest config epoch is the newest failover's
 * outcome, so it wins — as it would among the Sentinels themselves — provided that node still holds data: an
 * empty node made master would wipe every replica's copy on their first sync. Otherwise the node with the
 * newest data (a node its own config calls master first), and the Sentinels start afresh on it.
 */
export function planRoles(host: string, nodes: SavedNode[], views: SavedSentinelView[]): RolePlan {
  const ports = new Set(nodes.map((n) => n.port));
  const newest = [...views].sort((a, b) => b.epoch - a.epoch)[0];
  const holding = nodes.filter((n) => n.dataWrittenAt !== undefined);
  const chosen = newest && newest.host === host && ports.has(newest.port) ? newest : undefined;
  const chosenNode = chosen && nodes.find((n) => n.port === chosen.port);
  const agreed = views.length > 0 && views.every((v) => v.host === chosen?.host && v.port === chosen?.port);
  if (chosenNode && (chosenNode.dataWrittenAt !== undefined || holding.length === 0)) {
    const why = `the Sentinels' saved master (config epoch ${chosen?.epoch}, ${chosen?.sentinel})`;
    // Sentinels that disagree converge on the newest epoch among themselves: their configs can stay.
    return {
      master: chosenNode.port,
      why: agreed ? why : `${why}; the others will follow its epoch`,
      resetSentinels: false,
    };
  }
  const resetSentinels = views.length > 0;
  const fault = chosenNode ? 'holds no data' : 'is not a node of this stack';
  const lost = newest
    ? `the Sentinels' saved master ${newest.host}:${newest.port} ${fault}`
    : 'no Sentinel saved a master';
  if (holding.length === 0) {
    const first = nodes[0];
    if (!first) throw new Error('a topology needs at least one Redis node');
    return { master: first.port, why: `${lost}, and no node holds data: the first port`, resetSentinels };
  }
  const byNewest = [...holding].sort(
    (a, b) =>
      Number(b.replicaOf === undefined) - Number(a.replicaOf === undefined) ||
      (b.dataWrittenAt ?? 0) - (a.dataWrittenAt ?? 0),
  );
  const pick = byNewest[0] as SavedNode;
  const because =
    pick.replicaOf === undefined ? 'its config says master and it holds data' : 'it holds the newest data';
  return { master: pick.port, why: `${lost}: ${pick.name}, since ${because}`, resetSentinels };
}

/** Rewrites the node's config so that it replicates masterPort (undefined: so that it is a master). */
export async function setReplicaOf(files: ProcessFiles, host: string, masterPort: number | undefined): Promise<void> {
  const kept = (await readFile(files.conf, 'utf8')).split('\n').filter((line) => !REPLICAOF_LINE.test(line));
  while (kept.at(-1) === '') kept.pop();
  const replicaof = masterPort === undefined ? [] : [`replicaof ${host} ${masterPort}`];
  await writeFile(files.conf, `${[...kept, ...replicaof].join('\n')}\n`, { mode: 0o600 });
}
