import { createHash } from 'node:crypto';
import { readdir, readFile, readlink, lstat } from 'node:fs/promises';
import path from 'node:path';

/**
 * A short content hash of a folder (every file's path, exec bit and bytes; symlinks by target) and of the
 * extra strings given (versions, the parent's hash): an image built from the same inputs is the same image.
 */
export async function folderHash(dir: string, extra: readonly string[] = []): Promise<string> {
  const hash = createHash('sha256');
  for (const value of extra) hash.update(`extra ${value}\0`);
  const entries = await readdir(dir, { recursive: true });
  for (const relative of entries.sort()) {
    const file = path.join(dir, relative);
    const stat = await lstat(file);
    if (stat.isSymbolicLink()) hash.update(`link ${relative} ${await readlink(file)}\0`);
    else if (stat.isFile()) {
      hash.update(`file ${relative} ${stat.mode & 0o111 ? 'x' : '-'}\0`);
      hash.update(await readFile(file));
    }
  }
  return hash.digest('hex').slice(0, 16);
}
