import t from 'tap';
import {
  commandFlags,
  commandKind,
  diffCommandStats,
  parseCommandStats,
  perRequest,
  perRequestFigure,
  topCommands,
} from '../ops/bench/commandstats.js';
import { cacheBetween, cacheCounts, hitRatio } from '../ops/bench/cache-stats.js';

/** Redis commands per request and the cache's hits in `npm run bench`: pure parsing and arithmetic, no server. */

const INFO = (lines: string[]) => ['# Commandstats', ...lines, ''].join('\r\n');
const stat = (name: string, calls: number) =>
  `cmdstat_${name}:calls=${calls},usec=${calls * 3},usec_per_call=3.00,rejected_calls=7,failed_calls=2`;

// As Redis 7.0's COMMAND INFO answers: name, arity, flags, first/last key, step, ACL categories, tips, key specs,
// subcommands (each an entry of its own); nil for a name it does not know.
const entry = (name: string, flags: string[], subcommands: unknown[] = []) => [
  name,
  -2,
  flags,
  1,
  1,
  1,
  [],
  [],
  [],
  subcommands,
];
const COMMAND_INFO = [
  entry('hgetall', ['readonly']),
  entry('hset', ['write', 'denyoom', 'fast']),
  entry('incrby', ['write', 'denyoom', 'fast']),
  entry('exists', ['readonly', 'fast']),
  entry('exec', ['noscript', 'loading', 'stale', 'skip_slowlog']),
  entry('publish', ['pubsub', 'loading', 'stale', 'fast']),
  entry('client', [], [entry('client|tracking', ['noscript', 'loading', 'stale'])]),
  null,
];

t.test('INFO commandstats: calls by command, subcommands by their full name', async (t) => {
  const info = INFO([stat('hgetall', 12), stat('client|tracking', 2), stat('EXISTS', 3), 'cmdstat_odd:usec=4']);
  t.same(parseCommandStats(info), { hgetall: 12, 'client|tracking': 2, exists: 3 }, 'calls=, not rejected_calls=');
  t.same(parseCommandStats('# Server\r\nredis_version:7.0.15\r\n'), {}, 'no commandstats section: nothing');
});

t.test('two snapshots: the calls between them, none for a command not called', async (t) => {
  const before = { hgetall: 10, ping: 4, exists: 1 };
  const after = { hgetall: 25, ping: 4, exists: 1, hset: 3 };
  t.same(diffCommandStats(before, after), { hgetall: 15, hset: 3 });
  t.same(diffCommandStats({ hgetall: 100 }, { hgetall: 7 }), { hgetall: 7 }, 'a reset counter counts from zero');
});

t.test("COMMAND INFO: each command's flags, subcommands included, nil skipped", async (t) => {
  const flags = commandFlags(COMMAND_INFO);
  t.same(flags.hset, ['write', 'denyoom', 'fast']);
  t.same(flags['client|tracking'], ['noscript', 'loading', 'stale']);
  t.same(Object.keys(flags).sort(), [
    'client',
    'client|tracking',
    'exec',
    'exists',
    'hgetall',
    'hset',
    'incrby',
    'publish',
  ]);
  t.same(commandFlags(null), {}, 'no reply: no flags');
});

t.test('what counts per request: background anywhere, the replication stream on replicas', async (t) => {
  const flags = commandFlags(COMMAND_INFO);
  for (const name of ['ping', 'info', 'role', 'subscribe', 'replconf', 'client|tracking', 'client|setname']) {
    t.equal(commandKind(name, 'master', flags), 'background', `${name} on the master`);
    t.equal(commandKind(name, 'replica', flags), 'background', `${name} on a replica`);
  }
  for (const name of ['hgetall', 'hset', 'multi', 'exec', 'publish']) {
    t.equal(commandKind(name, 'master', flags), 'request', `${name} on the master is a request's`);
  }
  for (const name of ['hset', 'incrby', 'multi', 'exec', 'select', 'publish']) {
    t.equal(commandKind(name, 'replica', flags), 'replicated', `${name} on a replica came from the master`);
  }
  t.equal(commandKind('hgetall', 'replica', flags), 'request', 'a read on a replica is a request');
  t.equal(commandKind('eval', 'replica', { eval: ['may_replicate'] }), 'replicated', 'may_replicate: replicated');
  t.equal(commandKind('nosuch', 'replica', flags), 'request', 'without flags: counted');
});

t.test('per request: the master, the replicas summed, background per second', async (t) => {
  const flags = commandFlags(COMMAND_INFO);
  const figures = perRequest(
    [
      { node: 'redis-1', role: 'master', calls: { hgetall: 900, exists: 100, ping: 30, info: 3, replconf: 20 } },
      { node: 'redis-2', role: 'replica', calls: { hgetall: 50, hset: 40, exec: 10, select: 1, ping: 11 } },
      { node: 'redis-3', role: 'replica', calls: { hgetall: 50, hset: 40, exec: 10, 'client|setname': 1 } },
    ],
    flags,
    1000,
    10,
  );
  t.equal(figures.master.node, 'redis-1');
  t.same(figures.master.commands, { hgetall: 0.9, exists: 0.1 });
  t.equal(figures.master.perRequest, 1);
  t.same(figures.replicas.nodes, ['redis-2', 'redis-3']);
  t.same(figures.replicas.commands, { hgetall: 0.1 }, "the replication stream is not the replicas' own");
  t.equal(figures.replicas.perRequest, 0.1);
  t.equal(figures.replicas.replicated, (40 + 10 + 1 + 40 + 10) / 1000, 'what they applied of the stream');
  t.equal(figures.background.perSecond, (30 + 3 + 20 + 11 + 1) / 10);
  t.same(figures.background.commands, { ping: 4.1, info: 0.3, replconf: 2, 'client|setname': 0.1 });
  t.equal(topCommands(figures), 'hgetall 1.00, exists 0.10', "master and replicas' commands together");
  t.equal(perRequestFigure(0.0034), '0.0034', 'below 0.1: two significant digits');
  t.equal(perRequestFigure(0), '0.00', 'none: 0.00');
  t.equal(topCommands(figures, 1), 'hgetall 1.00, …', 'more than shown: an ellipsis');
  const none = perRequest([{ node: 'redis-1', role: 'master', calls: { hgetall: 5 } }], flags, 0, 0);
  t.same([none.master.perRequest, none.background.perSecond], [0, 0], 'no request: zero, not Infinity');
});

const METRICS = (hits: number, misses: number, extra = '') =>
  [
    '# HELP evergreen_cache_hits_total Client-side cache hits',
    '# TYPE evergreen_cache_hits_total counter',
    `evergreen_cache_hits_total{kind="product"} ${hits}`,
    `evergreen_cache_hits_total{kind="token"} ${hits * 2}`,
    `evergreen_cache_misses_total{kind="product"} ${misses}`,
    `evergreen_cache_misses_total{kind="token"} 0`,
    extra,
  ].join('\n');

t.test('cache hits: per kind and over every kind, summed over the instances', async (t) => {
  const before = cacheCounts([METRICS(10, 5), METRICS(0, 0)]);
  t.same(before, { product: { hits: 10, misses: 5 }, token: { hits: 20, misses: 0 } });
  const after = cacheCounts([METRICS(40, 15), METRICS(30, 10, 'evergreen_cache_misses_total{kind="page"} 4')]);
  const window = cacheBetween(before, after);
  t.same(window.kinds.product, { hits: 60, misses: 20, ratio: 0.75 });
  t.same(window.kinds.token, { hits: 120, misses: 0, ratio: 1 });
  t.same(window.kinds.page, { hits: 0, misses: 4, ratio: 0 });
  t.same([window.hits, window.misses], [180, 24]);
  t.equal(window.ratio, 180 / 204);
  t.equal(hitRatio(window), '88.2%');
});

t.test('a service without the counters: no lookups, no ratio, printed —', async (t) => {
  const counts = cacheCounts([
    '# HELP evergreen_purchase_watch_retries_total x\nevergreen_purchase_watch_retries_total 3',
  ]);
  t.same(counts, {});
  const window = cacheBetween(counts, counts);
  t.same(window, { hits: 0, misses: 0, ratio: null, kinds: {} });
  t.equal(hitRatio(window), '—');
  t.equal(hitRatio(undefined), '—');
});
