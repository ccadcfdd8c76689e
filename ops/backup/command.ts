import path from 'node:path';
import { parseArgs } from 'node:util';
import type { StackConfig } from '../../stack/config.js';
import { ensureSystemPackages } from '../../stack/helpers/packages.js';
import { ComposeDeployment } from '../deployment/compose.js';
import { defaultProjectName } from '../deployment/compose-containers.js';
import { launcherControl } from '../deployment/local.js';
import { takeBackup } from './backup.js';
import { restoreCompose } from './compose.js';
import { describeCounts } from './counts.js';
import { withStackRedis } from './local.js';
import type { Manifest } from './manifest.js';
import { restoreLocal } from './restore.js';

export const BACKUP_USAGE = `usage: npm run backup [-- --dir DIR] [--keep N] [--compose [--project NAME]]
  A snapshot of the local stack's data, taken from a replica in sync, as one archive
  (evergreen-<UTC time>.tar.gz, with manifest.json and a .sha256 beside it). The last line printed is its path.
  --dir DIR       where the archive goes (default: backups/ in the state folder, STACK_DIR; with --compose,
                  backups/compose-<project>/ in it, so that --keep never prunes another deployment's archives)
  --keep N        keep the newest N archives in DIR, this one included (default: BACKUP_KEEP, 7)
  --compose       back up a Docker Compose deployment of compose.yml instead, running, from one of its replicas
                  (needs REDIS_ADMIN_PASSWORD and SENTINEL_PASSWORD, from the environment or .env, as Compose)
  --project NAME  its Compose project (default: COMPOSE_PROJECT_NAME, else this folder's name, as Compose names it)
  The local stack may run or be stopped (its Redis nodes then start alone for the backup).`;

export const RESTORE_USAGE = `usage: npm run restore -- FILE [--force] [--compose [--project NAME]]
  Verifies FILE (checksums, manifest, Redis version, a trial load), then replaces the local stack's data with it
  on every Redis node, checks every node's counts against the manifest, and starts the stack again if it ran.
  --force         replace a stack (or project) that holds data (what it replaces is kept in each node's
                  pre-restore/ folder)
  --compose       restore into a Docker Compose deployment of compose.yml instead: its Sentinels and Redis
                  nodes are stopped, the snapshot put in each node's /data volume (the data replaced kept in
                  /data/pre-restore/), then they start again and every node is checked; the API instances and
                  NGINX keep running and reconnect (needs REDIS_ADMIN_PASSWORD and SENTINEL_PASSWORD, as Compose)
  --project NAME  its Compose project (default: COMPOSE_PROJECT_NAME, else this folder's name, as Compose names it)`;

class UsageError extends Error {}

const timedLog = () => {
  const startedAt = Date.now();
  return (msg: string) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
};

const HELP = { help: { type: 'boolean', short: 'h' } } as const;
const COMPOSE = { compose: { type: 'boolean' }, project: { type: 'string' } } as const;

/** The Compose project named by --project (or Compose's default), undefined without --compose. */
function composeProject(config: StackConfig, values: { compose?: boolean; project?: string }): string | undefined {
  if (values.project !== undefined && !values.compose) throw new UsageError('--project goes with --compose');
  if (values.project === '') throw new UsageError('--project wants a name');
  return values.compose ? (values.project ?? defaultProjectName(config.composeProjectName)) : undefined;
}

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
    const options = { dir: { type: 'string' }, keep: { type: 'string' }, ...COMPOSE, ...HELP } as const;
    const { values, positionals } = parsed(() => parseArgs({ args, options, allowPositionals: true }));
    if (values.help) return (console.log(BACKUP_USAGE), 0);
    if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(' ')}`);
    const keep = values.keep === undefined ? config.backupKeep : Number(values.keep);
    if (!Number.isInteger(keep) || keep < 1)
      throw new UsageError(`--keep wants a whole number ≥ 1, got ${values.keep}`);
    const project = composeProject(config, values);
    const defaultDir = path.join(config.dir, 'backups', ...(project ? [`compose-${project}`] : []));
    const dir = path.resolve(values.dir ?? defaultDir);
    const log = timedLog();
    // redis-cli streams the snapshot, a scratch redis-server counts it: this machine's, for Compose too.
    await ensureSystemPackages(log);
    log(
      project
        ? `backup of the Compose project ${project} into ${dir}`
        : `backup of the local stack in ${config.dir} into ${dir}`,
    );
    const { file, manifest } = project
      ? await takeBackup(await ComposeDeployment.attach(project, config), { dir, keep, log })
      : await withStackRedis(config, launcherControl(config), log, (view) => takeBackup(view, { dir, keep, log }));
    log(`backup done: ${describeCounts(manifest.counts)}`);
    console.log(file);
    return 0;
  });
}

/** `npm run restore -- FILE [--force]`: resolves with the exit code. */
export function restoreCommand(config: StackConfig, args: string[]): Promise<number> {
  return withUsage(RESTORE_USAGE, async () => {
    const options = { force: { type: 'boolean' }, ...COMPOSE, ...HELP } as const;
    const { values, positionals } = parsed(() => parseArgs({ args, options, allowPositionals: true }));
    if (values.help) return (console.log(RESTORE_USAGE), 0);
    if (positionals.length !== 1) throw new UsageError('name one archive to restore');
    const file = path.resolve(positionals[0] as string);
    const project = composeProject(config, values);
    const log = timedLog();
    await ensureSystemPackages(log);
    const force = values.force === true;
    log(`restore of ${file} into ${project ? `the Compose project ${project}` : `the local stack in ${config.dir}`}`);
    // A Compose project's nodes run again after its restore; a local stack that was stopped stays stopped.
    let manifest: Manifest;
    let stopped = false;
    if (project) {
      const deployment = await ComposeDeployment.attach(project, config);
      ({ manifest } = await restoreCompose(deployment, file, { force, log }));
    } else {
      const local = await restoreLocal(config, launcherControl(config), file, { force, log });
      ({ manifest } = local);
      stopped = !local.restarted;
    }
    log(`restored the backup of ${manifest.createdAt}: ${describeCounts(manifest.counts)} on every node`);
    if (stopped) log('the stack is stopped: `npm start` serves the restored data');
    return 0;
  });
}
