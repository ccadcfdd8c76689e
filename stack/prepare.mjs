/**
 * The first step of `npm start` / `npm run up|down|status`, in plain JavaScript because it runs before
 * node_modules (and so tsx) may exist: `npm ci` when the dependencies are missing or older than the lockfile.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const lockfile = path.join(root, 'package-lock.json');
// npm writes this copy of the lockfile into node_modules whenever it installs.
const installed = path.join(root, 'node_modules', '.package-lock.json');

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lockfile).mtimeMs) {
  console.log('Installing the npm dependencies (npm ci) ...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
