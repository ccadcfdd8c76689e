import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../layout.js';

export const builtServer = path.join(repoRoot, 'dist', 'server.js');

/** Runs `npm run build` when dist/ is missing or older than the source; says whether it did. */
export async function ensureBuilt(): Promise<boolean> {
  if (existsSync(builtServer) && (await stat(builtServer)).mtimeMs >= (await newestSourceChange())) return false;
  await execa('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  return true;
}

async function newestSourceChange(): Promise<number> {
  const entries = await readdir(path.join(repoRoot, 'src'), { recursive: true, withFileTypes: true });
  const files = [
    ...entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)),
    ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((f) => path.join(repoRoot, f)),
  ];
  const times = await Promise.all(files.map(async (f) => (await stat(f)).mtimeMs));
  return Math.max(...times);
}
