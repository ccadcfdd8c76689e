import t from 'tap';
import { categoryOfUrl, renderProfiles, summarizeProfile, type CpuProfile } from '../ops/bench/profile-summary.js';

/** The CPU profile summary of `npm run bench -- --profile`: pure arithmetic on a hand-made profile. */

const frame = (id: number, functionName: string, url = '', children: number[] = []) => ({
  id,
  callFrame: { functionName, url },
  children,
});

// (root) calls everything; pino's write calls a native function, which must count for pino.
const PROFILE: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 4, 5, 6, 7, 9, 10, 11, 12, 13]),
    frame(2, 'write', 'file:///work/main/node_modules/pino/lib/proto.js', [3]),
    frame(3, 'writeUtf8String'),
    frame(4, '(idle)'),
    frame(5, '(garbage collector)'),
    frame(6, 'onwrite', 'node:internal/streams/writable'),
    frame(7, 'emit', 'node:_http_server', [8]),
    frame(8, 'end', 'node:_http_outgoing', [14]),
    frame(9, 'handler', 'file:///app/dist/routes/products.js'),
    frame(10, 'onRequest', 'file:///app/node_modules/@fastify/rate-limit/index.js'),
    frame(11, 'boot', 'file:///app/node_modules/fastify/node_modules/avvio/boot.js'),
    frame(12, 'parse'),
    frame(13, '(program)'),
    frame(14, 'writev', '', [15]),
    frame(15, 'writevImpl'),
  ],
  startTime: 1000,
  endTime: 4500,
  samples: [4, 2, 3, 6, 9, 7, 8, 5, 10, 11, 12, 13, 14, 15, 4],
  // Each sample lasts until the next; the last one until endTime (1,000 µs).
  timeDeltas: [0, 400, 100, 300, 200, 600, 100, 100, 50, 150, 50, 250, 100, 30, 70],
};

const ABOUT = { scenario: 'catalog-get', instance: 'api-1', file: '/tmp/catalog-get-api-1.cpuprofile' };

t.test('idle and busy are shares of the profiled time, each sample lasting until the next', async (t) => {
  const summary = summarizeProfile(PROFILE, ABOUT);
  t.equal(summary.samples, 15);
  t.equal(summary.seconds, 3500 / 1e6, 'from the first sample to the end');
  t.equal(summary.idleShare, 1400 / 3500, 'the first and the last sample are idle');
  t.equal(summary.busyShare, 2100 / 3500);
});

t.test('busy self time is grouped by package, Node module, own file and V8 category', async (t) => {
  const { top } = summarizeProfile(PROFILE, ABOUT, 20);
  const shares = Object.fromEntries(top.map((c) => [c.category, c.share]));
  t.same(shares, {
    'dist/routes/products.js': 600 / 2100,
    pino: 400 / 2100, // its own frame and the native one it called
    '(native)': 250 / 2100, // a native frame called from no script
    'node:stream': 200 / 2100,
    'node:http': 200 / 2100, // _http_server and _http_outgoing together
    '@fastify/rate-limit': 150 / 2100,
    '(program)': 100 / 2100,
    '(garbage collector)': 50 / 2100,
    avvio: 50 / 2100, // the innermost package of a nested node_modules
    'node:http (native)': 100 / 2100, // a native call under Node's http, and the native one under it
  });
  t.notOk('(idle)' in shares, 'idle is not a busy category');
  t.equal(top.find((c) => c.category === 'pino')?.seconds, 400 / 1e6);
  t.same(
    top.map((c) => c.seconds),
    top.map((c) => c.seconds).sort((a, b) => b - a),
    'largest first',
  );
});

t.test('only the top categories are kept', async (t) => {
  const { top } = summarizeProfile(PROFILE, ABOUT, 2);
  t.same(
    top.map((c) => c.category),
    ['dist/routes/products.js', 'pino'],
  );
});

t.test('an empty profile (an instance that got no sample) is all zeros, not NaN', async (t) => {
  const summary = summarizeProfile({ nodes: [frame(1, '(root)')], startTime: 0, endTime: 0 }, ABOUT);
  t.same([summary.samples, summary.seconds, summary.idleShare, summary.busyShare, summary.top], [0, 0, 0, 0, []]);
});

t.test('categories of script URLs', async (t) => {
  const cases: [string, string][] = [
    ['node:net', 'node:net'],
    ['node:internal/streams/readable', 'node:stream'],
    ['node:internal/http', 'node:http'],
    ['node:_http_common', 'node:http'],
    ['node:internal/timers', 'node:timers'],
    ['node:internal/stream_base_commons', 'node:net'],
    ['file:///work/main/node_modules/ioredis/built/Redis.js', 'ioredis'],
    ['file:///app/node_modules/@fastify/error/index.js', '@fastify/error'],
    ['file:///work/main/dist/stores/purchase-store.js', 'dist/stores/purchase-store.js'],
    ['file:///elsewhere/loader.mjs', 'loader.mjs'],
  ];
  for (const [url, category] of cases) t.equal(categoryOfUrl(url), category, url);
});

t.test('the markdown section: one row per scenario and instance, shares in percent', async (t) => {
  const text = renderProfiles([summarizeProfile(PROFILE, ABOUT, 3)], '/tmp/profiles');
  t.match(text, '| catalog-get | api-1 | 0.0 | 60% | dist/routes/products.js 29%, pino 19%, (native) 12% |');
  t.match(text, '/tmp/profiles');
});
