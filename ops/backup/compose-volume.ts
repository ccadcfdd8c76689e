import { execa } from 'execa';
import { DOCKER } from '../../stack/compose/docker-cli.js';
import type { Container } from '../deployment/compose-containers.js';
import { PRE_RESTORE } from './node-files.js';

/**
 * A stopped Compose node's /data, replaced by a snapshot as node-files.ts does it for a local node's folder
 * (appendonlydir/ with the snapshot as the AOF's base under a manifest naming it alone, dump.rdb, the data
 * replaced kept in pre-restore/), owned by the image's redis user. The work is done by a throwaway container of
 * the node's own image with the node's volumes (--volumes-from), no network, the snapshot on its stdin: no path
 * of the engine's host is assumed, and it works the same on a remote engine.
 *
 * The snapshot is first written beside the data (restore.new/) and checked against its SHA-256; only then is
 * the data moved aside, into a folder marked with the restore's id, so that a rollback puts back only what this
 * restore moved, and never an older restore's pre-restore/ over a node it did not reach.
 */

const PLACE = `set -eu
umask 077 # the snapshot holds password hashes
cd /data
rm -rf restore.new ${PRE_RESTORE}.new
mkdir -m 700 restore.new restore.new/appendonlydir
cat >restore.new/appendonlydir/appendonly.aof.1.base.rdb
got=$(sha256sum restore.new/appendonlydir/appendonly.aof.1.base.rdb | cut -d ' ' -f 1)
if [ "$got" != "$1" ]; then
  rm -rf restore.new
  echo "the snapshot arrived with SHA-256 $got, not $1" >&2
  exit 3
fi
echo 'file appendonly.aof.1.base.rdb seq 1 type b' >restore.new/appendonlydir/appendonly.aof.manifest
cp restore.new/appendonlydir/appendonly.aof.1.base.rdb restore.new/dump.rdb
chown -R redis:redis restore.new
sync
mkdir -m 700 ${PRE_RESTORE}.new
echo "$2" >${PRE_RESTORE}.new/.restore-id
for f in appendonlydir dump.rdb; do if [ -e "$f" ]; then mv "$f" ${PRE_RESTORE}.new/; fi; done
rm -rf ${PRE_RESTORE}
mv ${PRE_RESTORE}.new ${PRE_RESTORE}
mv restore.new/appendonlydir restore.new/dump.rdb .
rmdir restore.new
chown -R redis:redis ${PRE_RESTORE}
sync
`;

const ROLL_BACK = `set -eu
cd /data
rm -rf restore.new
if [ -d ${PRE_RESTORE}.new ]; then
  # Stopped while moving the data aside: what is not in ${PRE_RESTORE}.new is still in place.
  if [ "$(cat ${PRE_RESTORE}.new/.restore-id 2>/dev/null)" != "$1" ]; then echo untouched; exit 0; fi
  for f in appendonlydir dump.rdb; do if [ -e "${PRE_RESTORE}.new/$f" ]; then mv "${PRE_RESTORE}.new/$f" .; fi; done
  rm -rf ${PRE_RESTORE}.new
  echo 'put back'
  exit 0
fi
if [ "$(cat ${PRE_RESTORE}/.restore-id 2>/dev/null)" != "$1" ]; then echo untouched; exit 0; fi
rm -rf appendonlydir dump.rdb
for f in appendonlydir dump.rdb; do if [ -e "${PRE_RESTORE}/$f" ]; then mv "${PRE_RESTORE}/$f" .; fi; done
rm -rf ${PRE_RESTORE}
sync
echo 'put back'
`;

/** `sh -c script` in a throwaway container of the node's image, with its volumes; its stdout. */
async function inVolume(node: Container, script: string, args: string[], inputFile?: string): Promise<string> {
  const run = ['run', '--rm', '--interactive', '--network', 'none', '--volumes-from', node.id, '--user', '0:0'];
  const result = await execa(DOCKER, [...run, '--entrypoint', 'sh', node.image, '-c', script, 'sh', ...args], {
    reject: false,
    all: true,
    timeout: 600_000,
    ...(inputFile ? { inputFile } : { input: '' }),
  });
  if (result.failed) throw new Error(`${node.service}'s /data: ${result.all?.trim() || result.shortMessage}`);
  return result.stdout.trim();
}

/** Writes the snapshot into the stopped node's /data and moves its data into /data/pre-restore/. */
export async function placeSnapshot(node: Container, snapshot: string, sha256: string, restoreId: string) {
  await inVolume(node, PLACE, [sha256, restoreId], snapshot);
}

/** Puts back what placeSnapshot of this restore moved aside, if it did; says which. */
export async function rollBackSnapshot(node: Container, restoreId: string): Promise<'put back' | 'untouched'> {
  return (await inVolume(node, ROLL_BACK, [restoreId])) === 'put back' ? 'put back' : 'untouched';
}

/** The Redis version a node's image runs ("Redis server v=7.0.15 sha=…" → 7.0.15). */
export async function imageRedisVersion(node: Container): Promise<string> {
  const args = ['run', '--rm', '--network', 'none', '--entrypoint', 'redis-server', node.image, '--version'];
  const { stdout } = await execa(DOCKER, args, { timeout: 60_000 });
  return /v=(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? 'unknown';
}
