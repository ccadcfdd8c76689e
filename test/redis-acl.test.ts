import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { pairs } from '../stack/helpers/redis-probe.js';
import { adminAuth, REDIS_USERS, sentinelAuth, type RedisAuth } from '../stack/helpers/redis-users.js';
import { createProduct, login, loginAdmin, startApp } from './helpers/app.js';
import { waitFor } from './helpers/fixtures.js';
import { startTestTopology } from './helpers/topology.js';

/**
 * Least privilege in Redis (redis/users.conf, sentinel/sentinel.conf): each user does its job and is refused the
 * rest, nobody gets in without a user, and the topology still fails over with the service following it.
 */

const topo = await startTestTopology(t);
const { host, redisPorts, sentinelPorts, masterName, keyPrefix } = topo.topology.options;
const { secrets } = topo;

/** A client as `auth` (none: unauthenticated) that never retries, so a refusal is the answer. */
function client(t: Test, port: number, auth?: RedisAuth): Redis {
  const redis = new Redis({
    host,
    port,
    ...auth,
    protocol: 2,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    commandTimeout: 2000,
  });
  redis.on('error', () => undefined);
  t.teardown(() => redis.disconnect());
  return redis;
}

const as = (user: keyof typeof REDIS_USERS): RedisAuth => ({ username: REDIS_USERS[user], password: secrets[user] });

/** The reply, or the error's first word (NOPERM, NOAUTH, WRONGPASS, …). */
async function answer(redis: Redis, args: [string, ...(string | number)[]]): Promise<unknown> {
  try {
    const [name, ...rest] = args;
    return await redis.call(name, ...rest);
  } catch (err) {
    return (err as Error).message.split(' ')[0];
  }
}

/** Every command is answered (not refused), then every refused one gets NOPERM. */
async function allowsExactly(
  t: Test,
  redis: Redis,
  allowed: [string, ...(string | number)[]][],
  refused: [string, ...(string | number)[]][],
) {
  for (const args of allowed) t.not(await answer(redis, args), 'NOPERM', `may ${args.join(' ')}`);
  for (const args of refused) t.equal(await answer(redis, args), 'NOPERM', `may not ${args.join(' ')}`);
}

const master = async () => (await topo.topology.masterAddress()).port;
const key = (name: string) => `${keyPrefix}acl-test:${name}`;

t.test("the service's user: data commands on its own keys, nothing else", async (t) => {
  const redis = client(t, await master(), as('service'));
  await allowsExactly(
    t,
    redis,
    [
      ['SET', key('a'), '1'],
      ['HSET', key('h'), 'f', 'v'],
      ['GET', key('a')],
      ['EVAL', 'return 1', 1, key('a')],
      ['SCRIPT', 'LOAD', 'return 1'],
      ['WAIT', 0, 0],
      ['INFO', 'replication'],
      ['ROLE'],
      ['CLIENT', 'SETNAME', 'acl-test'],
    ],
    [
      ['SET', 'outside:a', '1'],
      ['GET', 'outside:a'],
      ['EVAL', 'return 1', 1, 'outside:a'],
      ['FLUSHALL'],
      ['FLUSHDB'],
      ['KEYS', '*'],
      ['SCAN', 0],
      ['RANDOMKEY'],
      ['CONFIG', 'GET', 'masterauth'],
      ['CONFIG', 'SET', 'appendonly', 'no'],
      ['SHUTDOWN', 'NOSAVE'],
      ['SCRIPT', 'FLUSH'],
      ['SCRIPT', 'KILL'],
      ['FUNCTION', 'FLUSH'],
      ['MODULE', 'LIST'],
      ['ACL', 'LIST'],
      ['REPLICAOF', 'NO', 'ONE'],
      ['CLIENT', 'KILL', 'ID', 1],
      ['CLIENT', 'LIST'],
      ['BGSAVE'],
      ['MIGRATE', host, 1, key('a'), 0, 100],
      ['PUBLISH', 'channel', 'x'],
      ['SUBSCRIBE', 'channel'],
    ],
  );
  // DEBUG is off for everyone (enable-debug-command no), which answers before the ACL does: ask the ACL itself.
  const admin = client(t, await master(), adminAuth(secrets));
  t.match(
    await admin.call('ACL', 'DRYRUN', REDIS_USERS.service, 'DEBUG', 'SLEEP', '0'),
    /no permissions/,
    'may not DEBUG',
  );
  // A script cannot reach what its caller may not: a key it did not declare is checked too.
  t.match(await answer(redis, ['EVAL', "return redis.call('GET', 'outside:a')", 0]), /NOPERM|ERR/);
});

t.test('the replication, Sentinel and exporter users: their jobs only, never the data', async (t) => {
  const port = await master();
  await allowsExactly(
    t,
    client(t, port, as('replication')),
    [['PING'], ['REPLCONF', 'listening-port', 1]],
    [['GET', key('a')], ['INFO'], ['CONFIG', 'GET', '*'], ['SET', key('a'), '2']],
  );
  await allowsExactly(
    t,
    client(t, port, as('sentinel')),
    [['PING'], ['INFO'], ['ROLE'], ['CLIENT', 'SETNAME', 'x']],
    [
      ['GET', key('a')],
      ['SET', key('a'), '2'],
      ['KEYS', '*'],
      ['CONFIG', 'GET', 'masterauth'],
      ['FLUSHALL'],
      ['ACL', 'LIST'],
    ],
  );
  await allowsExactly(
    t,
    client(t, port, as('exporter')),
    [['PING'], ['INFO']],
    [
      ['GET', key('a')],
      ['SET', key('a'), '2'],
      ['SCAN', 0],
      ['CONFIG', 'GET', 'masterauth'],
      ['CLIENT', 'LIST'],
      ['REPLICAOF', 'NO', 'ONE'],
      ['ROLE'],
    ],
  );
  const admin = client(t, port, adminAuth(secrets));
  t.equal(await admin.call('ACL', 'WHOAMI'), 'admin', 'the admin is who it says');
  t.same(await admin.call('CONFIG', 'GET', 'appendonly'), ['appendonly', 'yes'], 'and may administer the node');
  const users = (await admin.call('ACL', 'LIST')) as string[];
  t.match(
    users.find((u) => u.startsWith('user default ')),
    /^user default off /,
    'the default user is off',
  );
  t.same(
    users.map((u) => u.split(' ')[1]).sort(),
    ['admin', 'default', 'evergreen', 'exporter', 'replication', 'sentinel'],
    'no user but these',
  );
});

t.test('nobody gets in without a user and its password: every node, every Sentinel', async (t) => {
  for (const port of redisPorts) {
    t.equal(await answer(client(t, port), ['GET', key('a')]), 'NOAUTH', `node ${port}: no AUTH, no answer`);
    t.equal(await answer(client(t, port), ['PING']), 'NOAUTH', `node ${port}: not even PING`);
    const wrong = client(t, port, { username: REDIS_USERS.service, password: 'wrong' });
    t.equal(await answer(wrong, ['PING']), 'WRONGPASS', `node ${port}: a wrong password is refused`);
    const asDefault = client(t, port, { password: secrets.admin });
    t.equal(
      await answer(asDefault, ['PING']),
      'WRONGPASS',
      `node ${port}: the default user is off, whatever the password`,
    );
    const info = String(await client(t, port, adminAuth(secrets)).call('CONFIG', 'GET', 'protected-mode'));
    t.equal(info, 'protected-mode,yes', `node ${port}: protected-mode on`);
  }
  for (const port of sentinelPorts) {
    t.equal(await answer(client(t, port), ['SENTINEL', 'MASTERS']), 'NOAUTH', `Sentinel ${port}: no AUTH, no answer`);
    const wrong = client(t, port, { password: 'wrong' });
    t.equal(await answer(wrong, ['PING']), 'WRONGPASS', `Sentinel ${port}: a wrong password is refused`);
    // Only the service and the exporter have users on the Sentinels; the nodes' admin and sentinel users do not.
    for (const user of ['admin', 'sentinel', 'replication'] as const) {
      const asNodeUser = client(t, port, as(user));
      t.equal(await answer(asNodeUser, ['PING']), 'WRONGPASS', `Sentinel ${port}: the nodes' ${user} is not its user`);
    }
    t.equal(
      await client(t, port, sentinelAuth(secrets)).call('PING'),
      'PONG',
      `Sentinel ${port}: its password lets in`,
    );
  }
});

/** What changes a Sentinel's mind or config: only its default user (peers, operators) may. */
const RECONFIGURING_SENTINEL: [string, ...(string | number)[]][] = [
  ['SENTINEL', 'FAILOVER', masterName],
  ['SENTINEL', 'SET', masterName, 'quorum', 1],
  ['SENTINEL', 'REMOVE', masterName],
  ['SENTINEL', 'MONITOR', 'other', host, 1, 1],
  ['SENTINEL', 'CONFIG', 'SET', 'resolve-hostnames', 'no'],
  ['SENTINEL', 'RESET', '*'],
];

t.test("the Sentinels' exporter user reads what Sentinel knows and changes nothing", async (t) => {
  const port = sentinelPorts[0] as number;
  await allowsExactly(
    t,
    client(t, port, { username: REDIS_USERS.exporter, password: secrets.exporter }),
    [
      ['PING'],
      ['INFO'],
      ['SENTINEL', 'MASTERS'],
      ['SENTINEL', 'REPLICAS', masterName],
      ['SENTINEL', 'SENTINELS', masterName],
    ],
    [...RECONFIGURING_SENTINEL, ['ACL', 'LIST'], ['SHUTDOWN']],
  );
});

t.test("the service's user on the Sentinels: where the master is and their events, no reconfiguring", async (t) => {
  for (const port of sentinelPorts) {
    const service = client(t, port, as('service'));
    await allowsExactly(
      t,
      service,
      [
        ['PING'],
        ['INFO'],
        ['CLIENT', 'SETNAME', 'acl-test'],
        ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName],
        ['SENTINEL', 'MASTER', masterName],
        ['SENTINEL', 'REPLICAS', masterName],
        ['SENTINEL', 'SENTINELS', masterName],
      ],
      [
        ...RECONFIGURING_SENTINEL,
        ['SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', host, redisPorts[0] as number, 0, '*'],
        ['SENTINEL', 'DEBUG'],
        ['PUBLISH', '+switch-master', 'x'],
        ['CLIENT', 'KILL', 'TYPE', 'normal'],
        ['ACL', 'LIST'],
        ['SHUTDOWN'],
      ],
    );
    const events = client(t, port, as('service'));
    t.same(await events.subscribe('+switch-master', '+odown'), 2, `Sentinel ${port}: it may hear the events`);
  }
});

t.test('with every user in place, a failover completes and the service follows it, never refused', async (t) => {
  // The tests above were refused on purpose: from here on, any refusal is a defect.
  for (const port of redisPorts) await client(t, port, adminAuth(secrets)).call('ACL', 'LOG', 'RESET');
  for (const port of sentinelPorts) await client(t, port, sentinelAuth(secrets)).call('ACL', 'LOG', 'RESET');
  const app = await startApp(t, topo);
  const admin = await loginAdmin(app);
  const buyer = await login(app, 'acl-buyer');
  const productId = await createProduct(app, admin.auth, { stock: 100 });
  const buy = (i: number) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/purchases',
      headers: { ...buyer.auth, 'idempotency-key': `acl-${i}` },
      payload: { productId, quantity: 1 },
    });
  t.equal((await buy(1)).statusCode, 201, 'a purchase before the failover');
  t.equal((await app.inject({ method: 'GET', url: `/api/v1/products/${productId}` })).statusCode, 200, 'a read');

  const old = await master();
  topo.topology.pause(old);
  t.teardown(() => topo.topology.resume(old));
  const next = await topo.topology.waitForFailover(old, 20_000);
  t.not(next.port, old, `the Sentinels promoted ${next.port}, as their user on the nodes`);
  let i = 2;
  await waitFor('a purchase acknowledged on the new master', 20_000, async () => {
    const res = await buy(i++);
    if (res.statusCode !== 201) throw new Error(`${res.statusCode} ${res.body}`);
  });
  t.pass('the service writes to the new master as its own user');
  topo.topology.resume(old);
  await waitFor('the old master to replicate again, as the replication user', 30_000, async () => {
    const role = (await client(t, old, adminAuth(secrets)).call('ROLE')) as unknown[];
    if (role[0] !== 'slave' || role[3] !== 'connected') throw new Error(JSON.stringify(role));
  });
  t.pass('the old master rejoined as a replica');

  // Nothing any user did was refused: every node's ACL LOG is empty (the service's ready checks, scripts,
  // transactions and WAITs; the Sentinels' reconfiguration; the replicas' syncs).
  for (const port of redisPorts) {
    const log = (await client(t, port, adminAuth(secrets)).call('ACL', 'LOG')) as string[][];
    const refusals = log.map((entry) => pairs(entry)).map((e) => `${e.username}: ${e.reason} ${e.object}`);
    t.same(refusals, [], `node ${port}: no refusal in its ACL LOG`);
  }
  // Nor on the Sentinels: the service asked them only what its user there may ask.
  for (const port of sentinelPorts) {
    const log = (await client(t, port, sentinelAuth(secrets)).call('ACL', 'LOG')) as string[][];
    const refusals = log.map((entry) => pairs(entry)).map((e) => `${e.username}: ${e.reason} ${e.object}`);
    t.same(refusals, [], `Sentinel ${port}: no refusal in its ACL LOG`);
  }
});

t.test("a restarted node replays the service's transactions from its AOF, with the default user off", async (t) => {
  // Redis 7.0 replays an AOF's MULTI/EXEC as the default user and EXEC re-checks that user's ACL: with a
  // default user stripped of rights, every acknowledged transaction would be dropped on restart
  // (redis/redis#14541). users.conf keeps it off but permitted; this proves the replay.
  const port = await master();
  const service = client(t, port, as('service'));
  const written = await service.multi().hset(key('tx'), 'qty', '3').incrby(key('tx-count'), 5).exec();
  t.same(
    written,
    [
      [null, 1],
      [null, 5],
    ],
    'a transaction acknowledged by the master',
  );
  // The Sentinels are stopped meanwhile, so the restart is a restart and not a failover.
  for (const s of sentinelPorts) topo.topology.pause(s);
  t.teardown(() => sentinelPorts.forEach((s) => topo.topology.resume(s)));
  await topo.topology.restart(port);
  const admin = client(t, port, adminAuth(secrets));
  t.same(await admin.call('HGETALL', key('tx')), ['qty', '3'], "the transaction's hash is back");
  t.equal(await admin.call('GET', key('tx-count')), '5', 'and its counter');
  const users = (await admin.call('ACL', 'LIST')) as string[];
  t.match(
    users.find((u) => u.startsWith('user default ')),
    /^user default off /,
    'the default user is still off',
  );
  for (const s of sentinelPorts) topo.topology.resume(s);
});
