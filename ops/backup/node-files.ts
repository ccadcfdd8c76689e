import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A stopped Redis node's data files, replaced by a snapshot: what a restore does in each node's folder (the
 * local stack's redis-<port>/, a Compose node's /data). redis/redis.conf keeps Redis's default names.
 *
 * With appendonly on, Redis 7 loads only its AOF (appendonlydir/, a manifest naming a base file and
 * increments) and ignores dump.rdb. So the snapshot becomes the AOF's base (an RDB base is what
 * aof-use-rdb-preamble writes anyway) under a manifest naming it alone; Redis opens a new increment on start.
 * It is also dump.rdb, so the folder holds no older RDB to mislead anyone.
 */

const AOF_DIR = 'appendonlydir';
const BASE = 'appendonly.aof.1.base.rdb';
const RDB = 'dump.rdb';
/** The files a restore replaced, kept until the next restore: the way back from a wrong archive. */
export const PRE_RESTORE = 'pre-restore';
const DATA = [AOF_DIR, RDB];

/** Moves the node's data into pre-restore/ (dropping an older one) and writes the snapshot in its place. */
export async function replaceNodeData(nodeDir: string, snapshot: string): Promise<void> {
  const kept = path.join(nodeDir, PRE_RESTORE);
  await rm(kept, { recursive: true, force: true });
  await mkdir(kept, { recursive: true, mode: 0o700 }); // the node's folder too, when it never ran
  for (const name of DATA) {
    if (existsSync(path.join(nodeDir, name))) await rename(path.join(nodeDir, name), path.join(kept, name));
  }
  await mkdir(path.join(nodeDir, AOF_DIR), { mode: 0o700 });
  await copyFile(snapshot, path.join(nodeDir, AOF_DIR, BASE));
  await writeFile(path.join(nodeDir, AOF_DIR, 'appendonly.aof.manifest'), `file ${BASE} seq 1 type b\n`);
  await copyFile(snapshot, path.join(nodeDir, RDB));
}

/** Puts back what replaceNodeData moved aside (a restore that failed after touching the node). */
export async function rollbackNodeData(nodeDir: string): Promise<void> {
  const kept = path.join(nodeDir, PRE_RESTORE);
  if (!existsSync(kept)) return;
  for (const name of DATA) await rm(path.join(nodeDir, name), { recursive: true, force: true });
  for (const name of await readdir(kept)) await rename(path.join(kept, name), path.join(nodeDir, name));
  await rm(kept, { recursive: true, force: true });
}

/** Whether a node folder holds data files at all (a node that never ran has none). */
export const hasNodeData = (nodeDir: string) => DATA.some((name) => existsSync(path.join(nodeDir, name)));
