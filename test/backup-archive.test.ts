import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { archiveName, checksumFile, openArchive, pruneArchives, writeArchive } from '../ops/backup/archive.js';
import { countDifferences, keyspace } from '../ops/backup/counts.js';
import { MANIFEST_FORMAT, parseManifest, versionProblem, type Manifest } from '../ops/backup/manifest.js';
import { lzfDecompress, parseRdbHeader } from '../ops/backup/rdb-header.js';

/** The pure parts of backups: the RDB header, the manifest, archive names and pruning, an archive's round trip. */

/** An RDB head as Redis writes it: magic, version, AUX fields (0xFA), then the first data opcode (SELECTDB). */
const rdbHead = (version: string, fields: Buffer[]) =>
  Buffer.concat([Buffer.from(`REDIS${version}`, 'latin1'), ...fields, Buffer.from([0xfe, 0x00])]);
const str = (s: string) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)]);
const aux = (key: string, value: Buffer) => Buffer.concat([Buffer.from([0xfa]), str(key), value]);

t.test('parseRdbHeader reads the version and every AUX encoding Redis uses', async (t) => {
  const long = 'x'.repeat(100); // 14-bit length: 0x40 | high bits, then the low byte
  const head = rdbHead('0010', [
    aux('redis-ver', str('7.0.15')),
    aux('redis-bits', Buffer.from([0xc0, 64])), // int8
    aux('aof-base', Buffer.from([0xc0, 0])),
    aux('repl-stream-db', Buffer.from([0xc1, 0x39, 0x30])), // int16 LE: 12345
    aux('repl-offset', Buffer.from([0xc2, 0x15, 0xcd, 0x5b, 0x07])), // int32 LE: 123456789
    aux('long', Buffer.concat([Buffer.from([0x40, 100]), Buffer.from(long)])),
    // LZF: literal "abc", then a back reference of 6 bytes to offset 3: "abcabcabc"
    aux('lzf', Buffer.from([0xc3, 6, 9, 0x02, 0x61, 0x62, 0x63, 0x80, 0x02])),
  ]);
  t.same(parseRdbHeader(head), {
    rdbVersion: 10,
    aux: {
      'redis-ver': '7.0.15',
      'redis-bits': '64',
      'aof-base': '0',
      'repl-stream-db': '12345',
      'repl-offset': '123456789',
      long,
      lzf: 'abcabcabc',
    },
  });
  t.throws(() => parseRdbHeader(Buffer.from('PK\x03\x04 not an rdb')), /not an RDB file/);
  t.throws(() => parseRdbHeader(Buffer.from('REDISxx10')), /not an RDB file \(version "xx10"\)/);
  t.throws(() => parseRdbHeader(head.subarray(0, 20)), /cut short/);
  t.throws(() => lzfDecompress(Buffer.from([0x80, 0x05]), 7), /does not decompress/, 'a reference before the start');
});

t.test('versionProblem: a snapshot reads on its own minor release and later ones, not earlier ones', async (t) => {
  t.equal(versionProblem('7.0.15', 10, '7.0.15'), undefined);
  t.equal(versionProblem('7.0.11', 10, '7.0.15'), undefined, 'an older patch');
  t.equal(versionProblem('7.0.15', 10, '7.0.11'), undefined, 'a newer patch of the same minor writes the same format');
  t.equal(versionProblem('6.2.6', 9, '7.0.15'), undefined);
  t.match(versionProblem('7.2.4', 11, '7.0.15'), /made by Redis 7\.2\.4 \(RDB format 11\).*Redis 7\.2 or later/);
  t.match(versionProblem('8.0.0', 12, '7.0.15'), /Redis 8\.0 or later/);
});

const manifest = (over: Partial<Manifest> = {}): Manifest => ({
  format: MANIFEST_FORMAT,
  formatVersion: 1,
  createdAt: '2026-11-23T18:23:00.123Z',
  keyPrefix: 'eg:',
  source: {
    deployment: 'local (/tmp/x)',
    masterName: 'evergreen',
    master: '127.0.0.1:6379',
    masterRunId: 'abc',
    replica: '127.0.0.1:6380',
    replicationId: 'def',
    replicationOffset: 10,
    masterOffset: 10,
  },
  redis: { version: '7.0.15', rdbVersion: 10 },
  counts: { users: 1, products: 2, purchases: 3, persistentKeys: 9, volatileKeys: 4 },
  files: { 'dump.rdb': { bytes: 0, sha256: '0'.repeat(64) } },
  ...over,
});

t.test('parseManifest refuses what is not a manifest of this format, saying why', async (t) => {
  t.same(parseManifest(JSON.stringify(manifest())), manifest());
  t.throws(() => parseManifest('{'), /not JSON/);
  t.throws(() => parseManifest('null'), /not an Evergreen backup's \(format undefined\)/);
  t.throws(
    () => parseManifest(JSON.stringify({ ...manifest(), formatVersion: 2 })),
    /format version 2; this .* reads 1/,
  );
  t.throws(() => parseManifest(JSON.stringify({ ...manifest(), createdAt: 'yesterday' })), /damaged: \/createdAt/);
  t.throws(() => parseManifest(JSON.stringify({ ...manifest(), counts: { users: 1 } })), /damaged: \/counts\/products/);
});

t.test('counts: TTL keys are recorded but never compared', async (t) => {
  const base = manifest().counts;
  t.same(countDifferences(base, { ...base, volatileKeys: 0 }), []);
  t.same(countDifferences(base, { ...base, purchases: 2, persistentKeys: 8 }), [
    'purchases: 3 expected, 2 found',
    'persistentKeys: 9 expected, 8 found',
  ]);
  t.same(keyspace('# Keyspace\r\ndb0:keys=12,expires=3,avg_ttl=100\r\n'), { keys: 12, expires: 3 });
  t.same(keyspace('# Keyspace\r\n'), { keys: 0, expires: 0 }, 'an empty database has no db0 line');
});

t.test('archives: named by time, the newest kept, a round trip through the archive', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'evergreen-archive-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.equal(archiveName(new Date('2026-11-23T18:23:00.123Z')), 'evergreen-2026-11-23T18-23-00-123Z.tar.gz');

  const times = ['2026-01-02T00:00:00.000Z', '2025-12-31T23:59:59.999Z', '2026-01-01T00:00:00.000Z'];
  for (const time of times) {
    const name = archiveName(new Date(time));
    await writeFile(path.join(dir, name), '');
    await writeFile(checksumFile(path.join(dir, name)), '');
  }
  await writeFile(path.join(dir, 'notes.txt'), 'not an archive: never removed');
  t.same(await pruneArchives(dir, 2), ['evergreen-2025-12-31T23-59-59-999Z.tar.gz'], 'the oldest goes');
  t.same((await readdir(dir)).sort(), [
    'evergreen-2026-01-01T00-00-00-000Z.tar.gz',
    'evergreen-2026-01-01T00-00-00-000Z.tar.gz.sha256',
    'evergreen-2026-01-02T00-00-00-000Z.tar.gz',
    'evergreen-2026-01-02T00-00-00-000Z.tar.gz.sha256',
    'notes.txt',
  ]);

  const out = path.join(dir, 'out');
  const snapshot = path.join(dir, 'snapshot.rdb');
  const rdb = Buffer.concat([rdbHead('0010', [aux('redis-ver', str('7.0.15'))]), Buffer.alloc(64, 7)]);
  await writeFile(snapshot, rdb);
  const sha256 = (await execa('sha256sum', [snapshot])).stdout.split(' ')[0] as string;
  const written = manifest({ files: { 'dump.rdb': { bytes: rdb.length, sha256 } } });
  const file = await writeArchive(out, written, snapshot);
  t.equal(path.basename(file), 'evergreen-2026-11-23T18-23-00-123Z.tar.gz');
  t.same((await readdir(out)).sort(), [path.basename(file), `${path.basename(file)}.sha256`], 'no partial file left');
  await execa('sha256sum', ['--check', '--quiet', checksumFile(file)], { cwd: out });
  t.pass('sha256sum --check accepts the .sha256 beside it');
  await t.rejects(writeArchive(out, written, snapshot), /already exists/, 'an archive is never overwritten');
  const work = path.join(dir, 'work');
  await execa('mkdir', [work]);
  const opened = await openArchive(file, work);
  t.same(opened.manifest, written);
  t.equal((await execa('sha256sum', [opened.snapshot])).stdout.split(' ')[0], sha256, 'the same snapshot');
  const mislabelled = manifest({
    createdAt: '2026-11-23T18:24:00.000Z',
    redis: { version: '7.0.15', rdbVersion: 11 },
    files: written.files,
  });
  const other = await writeArchive(out, mislabelled, snapshot);
  await t.rejects(openArchive(other, work), /written by Redis 7\.0\.15 \(RDB 10\), not as the manifest says/);
});
