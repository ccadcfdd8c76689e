import { copyFile, readdir, truncate } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import type { StackConfig } from '../stack/config.js';
import { repoRoot } from '../stack/layout.js';
import { secretsEnv, type RedisSecrets } from '../stack/helpers/redis-users.js';
import { buy, openShop, readEveryNode } from './helpers/backup.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

/**
 * npm run backup / restore as an operator runs them (stack/cli.ts, the environment naming the stack), on a
 * stopped stack: its Redis nodes start alone for the time of each command and stop again.
 */

const stackEnv = (config: StackConfig): Record<string, string> => ({
  STACK_DIR: config.dir,
  HTTP_PORT: String(config.httpPort),
  NGINX_STATUS_PORT: String(config.statusPort),
  API_PORTS: config.apiPorts.join(','),
  REDIS_PORTS: config.redisPorts.join(','),
  SENTINEL_PORTS: config.sentinelPorts.join(','),
  STACK_MONITORING: 'off',
  KEY_PREFIX: config.keyPrefix,
  ...secretsEnv(config.redisSecrets as RedisSecrets),
});

const cli = (config: StackConfig, ...args: string[]) =>
  execa(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'ops', 'cli.ts'), ...args], {
    cwd: repoRoot,
    env: stackEnv(config),
    reject: false,
  });

t.test('npm run backup and restore on a stopped stack', async (t) => {
  const config = await testStackConfig(t);
  const first = await startTestStack(t, config);
  const shop = await openShop(first.publicUrl, 2, 10);
  for (let i = 0; i < 3; i++) await buy(shop, shop.products[0]?.id ?? '', 1, `cli-${i}`);
  const before = await readEveryNode(first);
  await first.stop();

  const dir = path.join(config.dir, 'elsewhere');
  const one = await cli(config, 'backup', '--dir', dir, '--keep', '1');
  t.equal(one.exitCode, 0, one.stderr);
  t.match(one.stdout, /the stack is stopped: starting its Redis nodes and Sentinels alone/);
  t.match(one.stdout, /snapshot from its replica/);
  const archive = one.stdout.trim().split('\n').at(-1) ?? '';
  t.equal(path.dirname(archive), dir, 'the last line is the archive, in --dir');
  const two = await cli(config, 'backup', '--dir', dir, '--keep', '1');
  t.equal(two.exitCode, 0, two.stderr);
  const latest = two.stdout.trim().split('\n').at(-1) ?? '';
  t.same((await readdir(dir)).sort(), [path.basename(latest), `${path.basename(latest)}.sha256`], '--keep 1');

  const damaged = path.join(config.dir, 'damaged.tar.gz');
  await copyFile(latest, damaged);
  await truncate(damaged, 1000);
  const refused = await cli(config, 'restore', damaged, '--force');
  t.equal(refused.exitCode, 1);
  t.match(refused.stderr, /damaged\.tar\.gz is refused: it is not a complete gzip tar archive .*Nothing was changed\./);

  const unforced = await cli(config, 'restore', latest);
  t.equal(unforced.exitCode, 1);
  t.match(unforced.stderr, /The stopped stack in .* holds data \(2 users, 2 products, 3 purchases/);
  t.match(unforced.stderr, /--force/);

  t.equal((await cli(config, 'restore')).exitCode, 2, 'no archive named: a usage error');
  t.equal((await cli(config, 'backup', '--keep', '0')).exitCode, 2, '--keep 0: a usage error');

  const restored = await cli(config, 'restore', latest, '--force');
  t.equal(restored.exitCode, 0, restored.stderr);
  t.match(restored.stdout, /every node holds what the manifest says/);
  t.match(restored.stdout, /the stack is stopped: `npm start` serves the restored data/);

  const again = await startTestStack(t, config);
  t.same(await readEveryNode(again), before, 'the stack starts on the restored data, the same on every node');

  // A new machine: a state folder no stack has used, other ports, other passwords. No --force needed.
  const fresh = await testStackConfig(t);
  const nothing = await cli(fresh, 'backup');
  t.equal(nothing.exitCode, 1);
  t.match(nothing.stderr, /no stack has run from .*: there is no data to back up/);
  const elsewhere = await cli(fresh, 'restore', latest);
  t.equal(elsewhere.exitCode, 0, elsewhere.stderr);
  const moved = await startTestStack(t, fresh);
  const stores = (nodes: { store: unknown }[]) => nodes.map((node) => node.store);
  t.same(
    stores(await readEveryNode(moved)),
    stores(before),
    'a new state folder starts on the restored data, with its own passwords',
  );
});
