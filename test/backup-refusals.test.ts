import { copyFile, mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import t from 'tap';
import { checksumFile, sha256Of } from '../ops/backup/archive.js';
import { takeBackup } from '../ops/backup/backup.js';
import type { Manifest } from '../ops/backup/manifest.js';
import { restoreLocal } from '../ops/backup/restore.js';
import { LocalView } from '../ops/deployment/local.js';
import { buy, openShop, readEveryNode, replicasInSync, testStackControl } from './helpers/backup.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

/**
 * A truncated, corrupted or foreign archive is refused before anything is touched: the running stack is never
 * stopped (same processes) and every node holds the same store as before.
 */
t.test('a damaged, foreign or incompatible archive is refused and the data is untouched', async (t) => {
  const config = await testStackConfig(t);
  const stack = await startTestStack(t, config);
  const shop = await openShop(stack.publicUrl, 2, 20);
  for (let i = 0; i < 4; i++) await buy(shop, shop.products[i % 2]?.id ?? '', 1, `k-${i}`);
  const dir = path.join(config.dir, 'backups');
  const log = (msg: string) => t.comment(msg);
  const good = await takeBackup(new LocalView(stack), { dir, keep: 5, log });
  // After the backup, so a wrongly accepted restore would show.
  await buy(shop, shop.products[0]?.id ?? '', 3, 'after');
  await replicasInSync(stack);
  const stores = await readEveryNode(stack);
  const pids = stack.pids();
  const { control } = testStackControl(t, config, stack);

  const work = path.join(config.dir, 'tampered');
  await mkdir(work);
  const unpacked = path.join(work, 'unpacked');
  await mkdir(unpacked);
  await tar.extract({ file: good.file, cwd: unpacked });
  const manifest = JSON.parse(await readFile(path.join(unpacked, 'manifest.json'), 'utf8')) as Manifest;
  const snapshot = await readFile(path.join(unpacked, 'dump.rdb'));
  /** An archive of these files (no .sha256 beside it: the checks inside must catch it). */
  const pack = async (name: string, files: Record<string, string | Buffer>) => {
    const folder = path.join(work, `${name}.d`);
    await mkdir(folder);
    for (const [file, content] of Object.entries(files)) await writeFile(path.join(folder, file), content);
    const archive = path.join(work, `${name}.tar.gz`);
    await tar.create({ gzip: true, file: archive, cwd: folder }, Object.keys(files));
    return archive;
  };
  const withManifest = (changes: (m: Manifest) => void, rdb = snapshot) => {
    const m = structuredClone(manifest);
    changes(m);
    return { 'manifest.json': JSON.stringify(m), 'dump.rdb': rdb };
  };
  const copyOf = async (name: string, change: (file: string) => Promise<void>, keepSidecar = false) => {
    const file = path.join(work, name);
    await copyFile(good.file, file);
    if (keepSidecar) await copyFile(checksumFile(good.file), checksumFile(file));
    await change(file);
    return file;
  };
  const flipByte = async (file: string) => {
    const bytes = await readFile(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(file, bytes);
  };
  // A newer Redis's snapshot: RDB 11 and "7.2.15" (as long as "7.0.15", so the header stays well formed).
  const newer = Buffer.from(snapshot);
  newer.write('REDIS0011', 0, 'latin1');
  newer.write('7.2.15', newer.indexOf('7.0.15'), 'latin1');
  const newerSha = (await import('node:crypto')).createHash('sha256').update(newer).digest('hex');

  const cases: [string, string, RegExp][] = [
    ['truncated', await copyOf('truncated.tar.gz', async (f) => truncate(f, 600)), /not a complete gzip tar/],
    ['one byte flipped', await copyOf('flipped.tar.gz', flipByte), /not a complete gzip tar|SHA-256/],
    [
      'one byte flipped, .sha256 beside it',
      await copyOf('flipped-sidecar.tar.gz', flipByte, true),
      /SHA-256 differs from .*\.sha256/,
    ],
    ['not an archive', await copyOf('text.tar.gz', (f) => writeFile(f, 'hello\n')), /not a complete gzip tar/],
    ['an empty file', await copyOf('empty.tar.gz', (f) => writeFile(f, '')), /not a complete gzip tar/],
    ['a foreign archive', await pack('foreign', { 'notes.txt': 'x' }), /holds notes\.txt: not an Evergreen backup/],
    ['no snapshot', await pack('no-snapshot', { 'manifest.json': JSON.stringify(manifest) }), /dump\.rdb missing/],
    [
      'a foreign manifest',
      await pack('foreign-manifest', { 'manifest.json': '{"format":"other"}', 'dump.rdb': snapshot }),
      /not an Evergreen backup's/,
    ],
    [
      'a manifest that lies about the counts',
      await pack(
        'lying',
        withManifest((m) => (m.counts.purchases += 1)),
      ),
      /does not hold what its manifest says \(purchases: 5 expected, 4 found\)/,
    ],
    [
      'another snapshot',
      await pack(
        'swapped',
        withManifest(() => {}, Buffer.concat([snapshot, Buffer.from('x')])),
      ),
      /snapshot has \d+ bytes, the manifest says/,
    ],
    [
      'a damaged manifest',
      await pack(
        'damaged-manifest',
        withManifest((m) => Object.assign(m, { counts: { users: -1 } })),
      ),
      /manifest is damaged/,
    ],
    [
      "a newer Redis's snapshot",
      await pack(
        'newer',
        withManifest((m) => {
          m.redis = { version: '7.2.15', rdbVersion: 11 };
          m.files['dump.rdb'] = { bytes: newer.length, sha256: newerSha };
        }, newer),
      ),
      /made by Redis 7\.2\.15 \(RDB format 11\) .* restore it where Redis 7\.2 or later runs/,
    ],
    [
      'another KEY_PREFIX',
      await pack(
        'prefix',
        withManifest((m) => (m.keyPrefix = 'other:')),
      ),
      /KEY_PREFIX "other:"/,
    ],
    ['a missing file', path.join(work, 'nowhere.tar.gz'), /no such file/],
  ];
  for (const [what, file, why] of cases) {
    await t.rejects(restoreLocal(config, control, file, { force: true, log }), why, `${what}: refused`);
  }
  await t.rejects(
    restoreLocal(config, control, path.join(work, 'truncated.tar.gz'), { force: true, log }),
    /Nothing was changed\.$/,
    'each refusal says nothing changed',
  );

  t.same(stack.pids(), pids, 'the stack was never stopped: the same processes');
  t.same(await readEveryNode(stack), stores, 'every node holds the same store as before');
  t.equal(await sha256Of(good.file), (await readFile(checksumFile(good.file), 'utf8')).split(' ')[0]);
  await rm(work, { recursive: true, force: true });
});
