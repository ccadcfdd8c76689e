import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { Redis } from 'ioredis';
import { openArchive } from '../ops/backup/archive.js';
import { restoreCompose } from '../ops/backup/compose.js';
import { ComposeDeployment } from '../ops/deployment/compose.js';
import { loadStackConfig } from '../stack/config.js';
import { repoRoot } from '../stack/layout.js';
import { adminAuth, secretsEnv } from '../stack/helpers/redis-users.js';
import { readStore, replicasAtMasterOffset } from './helpers/backup.js';
import { COMPOSE_ADMIN, sentinelMaster, startComposeServices, type RunningProject } from './helpers/compose-run.js';
import { call, tempDir, waitFor } from './helpers/fixtures.js';

/**
 * npm run backup / restore -- --compose against compose.yml run for real: a snapshot from a replica of the
 * project, then more purchases, then a restore that gives back exactly the backed-up store on every node, with
 * the API instances left running; a damaged archive, a project holding data without --force, or a master name
 * the Sentinels do not know is refused with the project untouched. (A restore that fails after placing the
 * snapshot rolls every node back; no real fault makes that happen in seconds, so it is not run here.)
 */

const NODES = ['redis-1', 'redis-2', 'redis-3'];
const SENTINELS = ['sentinel-1', 'sentinel-2', 'sentinel-3'];
const SERVICES = [...NODES, ...SENTINELS, 'api-1', 'api-2', 'nginx'];
const PREFIX = 'eg:'; // compose.yml's default KEY_PREFIX
const PASSWORD = 'correct-horse-9';

// compose up ~35 s (minutes when the API image must be rebuilt), the backup ~4 s, the restore ~15 s.
t.setTimeout(600_000);
const running = await startComposeServices(t, SERVICES);
if (running) await backupTests(running);
else t.pass('SKIPPED, not silently: no Docker engine can be had here (not root); the comment above says why');

async function backupTests(running: RunningProject) {
  const { project, base, secrets } = running;
  const log = (msg: string) => t.comment(msg);
  const dir = await tempDir(t, 'backup-compose-test', async () => undefined);
  /**
   * What the CLI reads: of the project's .env, the two passwords it needs and the published port (no ADMIN_*);
   * nothing of a developer's .stack/ is read or written.
   */
  const { REDIS_ADMIN_PASSWORD, SENTINEL_PASSWORD } = secretsEnv(secrets);
  const env = {
    REDIS_ADMIN_PASSWORD,
    SENTINEL_PASSWORD,
    KEY_PREFIX: PREFIX,
    HTTP_PORT: new URL(base).port,
    STACK_DIR: path.join(dir, 'state'),
  };
  /** The project as the CLI attaches to it (compose.yml's default REDIS_MASTER_NAME, as the CLI's). */
  const config = loadStackConfig(env);
  const attached = await ComposeDeployment.attach(project.name, config);
  /** The CLI as an operator runs it. */
  const cli = async (args: string[]) => {
    const started = Date.now();
    const result = await execa('node', ['--import', 'tsx', 'ops/cli.ts', ...args], {
      cwd: repoRoot,
      env,
      all: true,
      reject: false,
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    log(`${args.slice(0, 2).join(' ')} in ${seconds} s:\n${result.all}`);
    return result;
  };

  const admin = String((await call(base, 'POST', '/api/v1/auth/login', { body: COMPOSE_ADMIN })).body.token);

  await t.test('attached to the running project: what the config says of it, and no more', async (t) => {
    t.equal(attached.where, project.name);
    t.equal(attached.publicUrl, base, "NGINX on the config's HTTP_PORT");
    t.throws(() => attached.admin, /API admin of the Compose project .* is not known: set ADMIN_USERNAME/);
    t.equal((await attached.master()).name, await sentinelMaster(running), "the Sentinels' master");
    await attached.stop();
    t.equal((await running.project.state('redis-1')).running, true, 'stop() leaves a project it did not start');
  });

  const products: string[] = [];
  let shopper = '';
  const buy = async (productId: string, quantity: number, key: string) => {
    const headers = { 'idempotency-key': key };
    const body = { productId, quantity };
    return (await call(base, 'POST', '/api/v1/purchases', { token: shopper, body, headers })).status;
  };
  let before: Stores = [];

  await t.test('a shop through NGINX: 3 products, a shopper, 9 purchases', async (t) => {
    for (let i = 0; i < 3; i++) {
      const body = { name: `Volume item ${i}`, priceCents: 100 + i, stock: 50 };
      const created = await call(base, 'POST', '/api/v1/products', { token: admin, body });
      t.equal(created.status, 201);
      products.push(String(created.body.id));
    }
    shopper = await signUp(base, 'shopper');
    for (let i = 0; i < 9; i++) t.equal(await buy(products[i % 3] as string, 1 + (i % 2), `before-${i}`), 201);
    before = await everyNodeStore(running);
  });
  let file = '';
  let snapshotSha256 = '';

  await t.test(
    'npm run backup -- --compose: an archive of a replica in sync, with the manifest of the project',
    async (t) => {
      const result = await cli(['backup', '--compose', '--project', project.name, '--dir', dir, '--keep', '2']);
      t.equal(result.exitCode, 0, 'exit code 0');
      file = result.stdout.trim().split('\n').at(-1) ?? '';
      t.match(path.basename(file), /^evergreen-\d{4}-\d\d-\d\dT[\d-]+Z\.tar\.gz$/, 'the last line is the archive');
      t.match(result.stdout, /snapshot from its replica redis-\d:6379 \(at [\d.]+:6379\)/, 'it says where from');
      const { manifest } = await openArchive(file, await mkdirIn(dir, 'opened'));
      t.match(manifest.counts, { users: 2, products: 3, purchases: 9 }, 'the manifest counts the snapshot');
      snapshotSha256 = manifest.files['dump.rdb'].sha256;
      t.equal(manifest.source.deployment, `compose (${project.name})`);
      t.match(manifest.source.master, /^redis-\d:6379$/, 'the master by its service name');
      t.match(manifest.source.replica, /^redis-\d:6379$/);
      t.not(manifest.source.replica, manifest.source.master, 'taken from a replica, not the master');
      t.equal(manifest.source.master, `${await sentinelMaster(running)}:6379`, "the Sentinels' master");
    },
  );

  let after: Stores = [];
  await t.test('after the backup: more purchases, a new user and product, a changed price', async (t) => {
    for (let i = 0; i < 6; i++) t.equal(await buy(products[i % 2] as string, 2, `after-${i}`), 201);
    await signUp(base, 'latecomer');
    const late = { name: 'Late', priceCents: 7, stock: 1 };
    t.equal((await call(base, 'POST', '/api/v1/products', { token: admin, body: late })).status, 201);
    const patch = { token: admin, body: { priceCents: 999 } };
    t.equal((await call(base, 'PATCH', `/api/v1/products/${products[2]}`, patch)).status, 200);
    after = await everyNodeStore(running);
    t.not(after[0]?.store, before[0]?.store, 'the store moved on after the backup');
  });

  await t.test(
    'a damaged archive, a project holding data without --force, a wrong master name: refused, nothing changes',
    async (t) => {
      const started = await startedAt(running);
      const damaged = path.join(dir, 'damaged.tar.gz');
      const bytes = await readFile(file);
      const middle = Math.floor(bytes.length / 2);
      bytes.writeUInt8((bytes.readUInt8(middle) + 1) % 256, middle);
      await writeFile(damaged, bytes);
      await t.rejects(restoreCompose(attached, damaged, { force: true, log }), /refused: .*Nothing was changed/s);
      const copy = path.join(dir, 'copy.tar.gz');
      await copyFile(file, copy);
      const refused = restoreCompose(attached, copy, { force: false, log });
      await t.rejects(refused, /holds data .*--force.*Nothing was changed/s, 'without --force: refused');
      const wrongName = await ComposeDeployment.attach(project.name, { ...config, masterName: 'elsewhere' });
      const elsewhere = restoreCompose(wrongName, copy, { force: true, log });
      await t.rejects(elsewhere, /no master named "elsewhere".*Nothing was changed/, 'a master name no Sentinel knows');
      t.same(await startedAt(running), started, 'no container was stopped or started');
      t.same(await everyNodeStore(running), after, 'every node holds what it held');
    },
  );

  await t.test('npm run restore -- FILE --compose --force: exactly the backed-up store on every node', async (t) => {
    const others = await startedAt(running, ['api-1', 'api-2', 'nginx']);
    const result = await cli(['restore', file, '--compose', '--project', project.name, '--force']);
    t.equal(result.exitCode, 0, 'exit code 0');
    t.match(result.stdout, /api-1, api-2, nginx keep running/, 'it says the API instances keep running');
    t.same(await startedAt(running, ['api-1', 'api-2', 'nginx']), others, 'and they did, untouched');
    const stores = await everyNodeStore(running);
    t.equal(stores.length, 3);
    for (const { node, store } of stores) t.same(store, before[0]?.store, `${node} holds exactly the backed-up store`);
    for (const { node } of stores) {
      const files = await project.exec(node, ['sh', '-c', 'cd /data && find . ! -user redis; ls -A pre-restore']);
      t.match(
        files,
        /^\.restore-id\nappendonlydir\n/,
        `${node}: all of /data is redis's; what it held is in pre-restore`,
      );
    }
    // The master's AOF base is the snapshot itself (a replica's is rewritten when it syncs from the master).
    const aofBase = await project.exec(stores[0]?.node ?? '', [
      'sha256sum',
      '/data/appendonlydir/appendonly.aof.1.base.rdb',
    ]);
    t.equal(aofBase.split(' ')[0], snapshotSha256, `${stores[0]?.node}, the master: its AOF base is the snapshot`);

    // As a client sees it, through NGINX once the API instances found the master again.
    const backedUp = before[0]?.store ?? {};
    const stockOf = (id: string) =>
      Number((backedUp[`${PREFIX}product:${id}`] as { hash: { stock: string } }).hash.stock);
    await waitFor('the API to serve the restored stock', 60_000, async () => {
      for (const id of products) {
        const res = await call(base, 'GET', `/api/v1/products/${id}`);
        if (res.status !== 200 || res.body.stock !== stockOf(id))
          throw new Error(`${id}: ${res.status} ${res.body.stock}`);
      }
    });
    t.pass('every product has its backed-up stock');
    const late = await call(base, 'POST', '/api/v1/auth/login', {
      body: { username: 'latecomer', password: PASSWORD },
    });
    t.equal(late.status, 401, 'the user registered after the backup is gone');
    const mine = await call(base, 'GET', '/api/v1/purchases?limit=100', { token: shopper });
    t.equal((mine.body.items as unknown[]).length, 9, "the shopper's purchases are the 9 made before the backup");
    t.equal(await buy(products[0] as string, 1, 'after-0'), 201, 'an Idempotency-Key from after the backup buys anew');
  });
}

async function signUp(base: string, username: string): Promise<string> {
  await call(base, 'POST', '/api/v1/auth/register', { body: { username, password: PASSWORD } });
  return String(
    (await call(base, 'POST', '/api/v1/auth/login', { body: { username, password: PASSWORD } })).body.token,
  );
}

async function mkdirIn(dir: string, name: string): Promise<string> {
  await mkdir(path.join(dir, name));
  return path.join(dir, name);
}

/** When each container started: a stop or a restart changes it. */
async function startedAt(running: RunningProject, services = [...NODES, ...SENTINELS]) {
  return Promise.all(services.map(async (s) => `${s} ${(await running.project.state(s)).startedAt}`));
}

type Stores = { node: string; store: Record<string, unknown> }[];

/**
 * Every node's store (the rate-limit counters left out), master first, once every replica is at the master's
 * offset: read on each node through its container's address.
 */
async function everyNodeStore(running: RunningProject): Promise<Stores> {
  const master = await sentinelMaster(running);
  const ip = async (node: string) => (await running.project.state(node)).ip ?? '';
  const redis = new Redis({ host: await ip(master), port: 6379, ...adminAuth(running.secrets), lazyConnect: true });
  redis.on('error', () => {}); // a failed command says why
  try {
    await redis.connect();
    await replicasAtMasterOffset(redis, NODES.length - 1, 15_000);
  } finally {
    redis.disconnect();
  }
  const ordered = [master, ...NODES.filter((n) => n !== master)];
  return Promise.all(
    ordered.map(async (node) => ({ node, store: await readStore(await ip(node), 6379, running.secrets, PREFIX) })),
  );
}
