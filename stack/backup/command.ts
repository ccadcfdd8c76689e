import path from 'node:path';
import { parseArgs } from 'node:util';
import type { StackConfig } from '../config.js';
import { resolveCredentials } from '../credentials.js';
import { ensureSystemPackages } from '../packages.js';
import { takeBackup } from './backup.js';
import { describeCounts } from './counts.js';
import { deploymentName, launcherControl, sentinelView, withStackRedis } from './local.js';
import { restoreLocal } from './restore.js';

export const BACKUP_USAGE = `usage: npm run backup [-- --dir DIR] [--keep N]
  A snapshot of the local stack's data, taken from a replica in sync, as one archive
  (evergreen-<UTC time>.tar.gz, with manifest.json and a .sha256 beside it). The last line printed is its path.
  --dir DIR   where the archive goes (default: backups/ in the state folder, STACK_DIR)
  --keep N    keep the newest N archives in DIR, this one included (default: BACKUP_KEEP, 7)
  The stack may run or be stopped (its Redis nodes then start alone for the backup).`;

export const RESTORE_USAGE = `usage: npm run restore -- FILE [--force]
  Verifies FILE (checksums, manifest, Redis version, a trial load), then replaces the local stack's data with it
  on every Redis node, checks every node's counts against the manifest, and starts the stack again if it ran.
  --force     replace a stack that holds data (what it replaces is kept in each node's pre-restore/ folder)`;

class UsageError extends Error {}

const timedLog = () => {
  const startedAt = Date.now();
  return (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
};

const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** parseArgs's own errors (an unknown flag, a missing value) are usage errors. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function withUsage(usage: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${usage}`);
    return 2;
  }
}

/** `npm run backup`: resolves with the exit code; its last line of output is the archive's path. */
export function backupCommand(config: StackConfig, args: string[]): Promise<number> {
  return withUsage(BACKUP_USAGE, async () => {
    const options = { dir: { type: 'string' }, keep: { type: 'string' }, ...HELP } as const;
    const { values, positionals } = parsed(() => parseArgs({ args, options, allowPositionals: true }));
    if (values.help) return (console.log(BACKUP_USAGE), 0);
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`);
    const keep = values.keep === undefined ? config.backupKeep : Number(values.keep);
    if (!Number.isInteger(keep) || keep < 1)
      throw new UsageError(`--keep wants a whole number ≥ 1, got ${values.keep}`);
    const dir = path.resolve(values.dir ?? path.join(config.dir, 'backups'));
    const log = timedLog();
    await ensureSystemPackages(log);
    const secrets = (await resolveCredentials(config)).redis;
    log(`backup of the local stack in ${config.dir} into ${dir}`);
    const { file, manifest } = await withStackRedis(config, launcherControl(config), secrets, log, () =>
      takeBackup(sentinelView(config, secrets), {
        dir,
        keep,
        keyPrefix: config.keyPrefix,
        deployment: deploymentName(config),
        log,
      }),
    );
    log(`backup done: ${describeCounts(manifest.counts)}`);
    console.log(file);
    return 0;
  });
}

/** `npm run restore -- FILE [--force]`: resolves with the exit code. */
export function restoreCommand(config: StackConfig, args: string[]): Promise<number> {
  return withUsage(RESTORE_USAGE, async () => {
    const options = { force: { type: 'boolean' }, ...HELP } as const;
    const { values, positionals } = parsed(() => parseArgs({ args, options, allowPositionals: true }));
    if (values.help) return (console.log(RESTORE_USAGE), 0);
    if (positionals.length !== 1) throw new UsageError('name one archive to restore');
    const file = path.resolve(positionals[0] as string);
    const log = timedLog();
    await ensureSystemPackages(log);
    log(`restore of ${file} into the local stack in ${config.dir}`);
    const result = await restoreLocal(config, launcherControl(config), file, { force: values.force === true, log });
    const { createdAt } = result.manifest;
    log(`restored the backup of ${createdAt}: ${describeCounts(result.manifest.counts)} on every node`);
    if (!result.restarted) log('the stack is stopped: `npm start` serves the restored data');
    return 0;
  });
}
