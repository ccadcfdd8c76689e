import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { parseRdbHeader } from './rdb-header.js';
import { ARCHIVE_ENTRIES, parseManifest, type Manifest } from './manifest.js';

/**
 * Backup archives on disk: evergreen-<UTC time>.tar.gz (manifest.json, then dump.rdb) with a sha256sum line
 * beside it (<archive>.sha256) for checking a copy after shipping it, with or without Evergreen.
 */

const ARCHIVE_NAME = /^evergreen-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z\.tar\.gz$/;

/** evergreen-2026-11-23T18-23-00-123Z.tar.gz: sorts by time, and no colon (scp would read a host name). */
export const archiveName = (at: Date) => `evergreen-${at.toISOString().replace(/[:.]/g, '-')}.tar.gz`;

export const checksumFile = (archive: string) => `${archive}.sha256`;

export async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Writes the archive into dir under its final name only once it is complete and on disk (written as a hidden
 * .partial file first, fsynced, then renamed), so a crash never leaves a torn archive that looks like a backup.
 */
export async function writeArchive(dir: string, manifest: Manifest, snapshot: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 }); // a snapshot holds password hashes
  const file = path.join(dir, archiveName(new Date(manifest.createdAt)));
  if (existsSync(file)) throw new Error(`${file} already exists`);
  const staging = await mkdtemp(path.join(dir, '.staging-'));
  const partial = path.join(dir, `.${path.basename(file)}.partial`);
  try {
    await writeFile(path.join(staging, ARCHIVE_ENTRIES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);
    await copyFile(snapshot, path.join(staging, ARCHIVE_ENTRIES.snapshot));
    const entries = [ARCHIVE_ENTRIES.manifest, ARCHIVE_ENTRIES.snapshot];
    await tar.create({ gzip: true, file: partial, cwd: staging, portable: true, mode: 0o600 }, entries);
    await syncFile(partial);
    await rename(partial, file);
    await writeFile(checksumFile(file), `${await sha256Of(file)}  ${path.basename(file)}\n`, { mode: 0o600 });
    return file;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Keeps the newest `keep` archives in dir (and their .sha256 files); returns the names removed. */
export async function pruneArchives(dir: string, keep: number): Promise<string[]> {
  const archives = (await readdir(dir)).filter((name) => ARCHIVE_NAME.test(name)).sort();
  const old = archives.slice(0, Math.max(0, archives.length - keep));
  for (const name of old) {
    await rm(path.join(dir, name), { force: true });
    await rm(checksumFile(path.join(dir, name)), { force: true });
  }
  return old;
}

export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

export interface OpenedArchive {
  manifest: Manifest;
  /** The snapshot, extracted into the work folder. */
  snapshot: string;
}

/**
 * Opens an archive into workDir and checks everything that can be checked without Redis: the .sha256 beside
 * it (when there is one), that it is a complete gzip tar of exactly a manifest and a snapshot, the manifest's
 * shape, the snapshot's size and SHA-256, and that the snapshot's own header agrees with the manifest.
 */
export async function openArchive(file: string, workDir: string): Promise<OpenedArchive> {
  const refuse = (why: string): never => {
    throw new ArchiveError(`${file} is refused: ${why}. Nothing was changed.`);
  };
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) refuse('no such file');
  const sidecar = checksumFile(file);
  if (existsSync(sidecar)) {
    const expected = (await readFile(sidecar, 'utf8')).split(/\s/)[0];
    if (expected !== (await sha256Of(file))) refuse(`its SHA-256 differs from ${sidecar} (damaged or truncated)`);
  }
  const seen: string[] = [];
  const unexpected: string[] = [];
  const known = new Set<string>(Object.values(ARCHIVE_ENTRIES));
  try {
    await tar.extract({
      file,
      cwd: workDir,
      strict: true,
      filter: (name, entry) => {
        const regular = 'type' in entry && entry.type === 'File';
        if (known.has(name) && regular && !seen.includes(name)) {
          seen.push(name);
          return true;
        }
        unexpected.push(name);
        return false;
      },
    });
  } catch (err) {
    refuse(`it is not a complete gzip tar archive (${(err as Error).message})`);
  }
  if (unexpected.length > 0) refuse(`it holds ${unexpected.slice(0, 3).join(', ')}: not an Evergreen backup`);
  const missing = [...known].filter((name) => !seen.includes(name));
  if (missing.length > 0) refuse(`${missing.join(' and ')} missing: not an Evergreen backup, or cut short`);

  let manifest: Manifest | undefined;
  try {
    manifest = parseManifest(await readFile(path.join(workDir, ARCHIVE_ENTRIES.manifest), 'utf8'));
  } catch (err) {
    refuse((err as Error).message);
  }
  const m = manifest as Manifest;
  const snapshot = path.join(workDir, ARCHIVE_ENTRIES.snapshot);
  const expected = m.files[ARCHIVE_ENTRIES.snapshot];
  const bytes = (await stat(snapshot)).size;
  if (bytes !== expected.bytes) refuse(`its snapshot has ${bytes} bytes, the manifest says ${expected.bytes}`);
  if ((await sha256Of(snapshot)) !== expected.sha256) refuse("its snapshot's SHA-256 differs from the manifest's");
  const header = await readHead(snapshot);
  try {
    const { rdbVersion, aux } = parseRdbHeader(header);
    if (rdbVersion !== m.redis.rdbVersion || aux['redis-ver'] !== m.redis.version) {
      refuse(`its snapshot was written by Redis ${aux['redis-ver']} (RDB ${rdbVersion}), not as the manifest says`);
    }
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    refuse(`its snapshot is not an RDB file (${(err as Error).message})`);
  }
  return { manifest: m, snapshot };
}

/** The first bytes of a file: an RDB's header fits in far fewer. */
export async function readHead(file: string, bytes = 4096): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
