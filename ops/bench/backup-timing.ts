import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../../stack/helpers/build.js';
import { BulkLoader } from './scale-load.js';
import { jsonRequest } from '../../stack/helpers/http.js';
import { ensureSystemPackages } from '../../stack/helpers/packages.js';
import { adminAuth } from '../../stack/helpers/redis-users.js';
import { LocalStack } from '../../stack/stack.js';
import { temporaryStackConfig } from '../../stack/helpers/temporary.js';
import { megabytes, takeBackup } from '../backup/backup.js';
import { describeCounts } from '../backup/counts.js';
import { restoreLocal } from '../backup/restore.js';
import { LocalView, type StackControl } from '../deployment/local.js';

/**
 * `npm run backup:measure [-- --purchases N]`: how long a backup and a restore take on this machine for a dataset
 * of N purchases (100,000 by default), on a stack of its own (temp folder, free ports, its own secrets). The
 * figures in docs/operations.md's "Backups" come from it. Users register through the API; products and purchases are
 * written in bulk with the stores' own keys (ops/bench/scale-load.ts).
 */
const ADMIN = { username: 'measure-admin', password: 'measure-admin-password-1' };
const USERS = 50;
const PRODUCTS = 1000;

const { values } = parseArgs({ options: { purchases: { type: 'string', default: '100000' } } });
const purchases = Number(values.purchases);
const startedAt = Date.now();
const log = (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
const seconds = (from: number) => (performance.now() - from) / 1000;

const programs = await ensureSystemPackages(log);
await ensureBuilt();
const config = await temporaryStackConfig('backup-measure', {
  downAfterMs: 5000,
  failoverTimeoutMs: 10_000,
  admin: ADMIN,
  apiRunner: 'dist',
  apiEnv: { RATE_LIMIT_MAX: '100000' },
});
const quiet = (msg: string) => (msg.startsWith('  ') ? undefined : log(msg));
let stack = new LocalStack(config, { nginx: programs.nginx, log: quiet });
const control: StackControl = {
  isRunning: async () => true,
  stopStack: () => stack.stop(),
  startStack: async () => {
    stack = new LocalStack(config, { nginx: programs.nginx, log: quiet });
    await stack.start();
  },
};
try {
  await stack.start();
  const userIds: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const account = { username: `measure-${i}`, password: 'correct-horse-9' };
    const res = await jsonRequest(stack.publicUrl, 'POST', '/api/v1/auth/register', {
      body: account,
      timeoutMs: 10_000,
    });
    userIds.push(String(res.body.id));
  }
  const master = await stack.topology!.masterAddress();
  const loader = await BulkLoader.connect({ ...master, ...adminAuth(stack.credentials.redis) }, config.keyPrefix, log);
  const { ids } = await loader.products(PRODUCTS, 'measure');
  await loader.purchases(purchases, userIds, ids);
  await loader.close();
  log(`loaded ${USERS} users, ${PRODUCTS} products, ${purchases.toLocaleString('en')} purchases`);

  let from = performance.now();
  const backup = await takeBackup(new LocalView(stack), { dir: path.join(config.dir, 'backups'), keep: 1, log });
  const backupSeconds = seconds(from);
  const snapshotBytes = backup.manifest.files['dump.rdb'].bytes;
  from = performance.now();
  const restored = await restoreLocal(config, control, backup.file, { force: true, log });
  const restoreSeconds = seconds(from);
  const s = (n: number) => `${n.toFixed(1)} s`;
  const { verify, stop, place, check, restart } = restored.seconds;
  const rows = [
    ['snapshot (RDB) / archive (gzip)', `${megabytes(snapshotBytes)} / ${megabytes((await stat(backup.file)).size)}`],
    ['npm run backup: locate a replica, stream, trial load and count, archive', s(backupSeconds)],
    ['npm run restore --force, in all', s(restoreSeconds)],
    ['· verify the archive (checksums, trial load, counts)', s(verify)],
    ['· stop the stack', s(stop)],
    ['· place the snapshot on the 3 nodes', s(place)],
    ['· start the nodes and Sentinels, count on every node', s(check)],
    ['· start the stack again', s(restart)],
  ];
  console.log(`\n| ${describeCounts(restored.manifest.counts)} | |\n|---|---|`);
  for (const [what, value] of rows) console.log(`| ${what} | ${value} |`);
} finally {
  await stack.stop();
  await rm(config.dir, { recursive: true, force: true });
}
