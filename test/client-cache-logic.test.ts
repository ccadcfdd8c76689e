import t from 'tap';
import { Registry } from 'prom-client';
import type { Redis } from 'ioredis';
import { ClientCache } from '../src/redis/cache/client-cache.js';
import { CacheMetrics } from '../src/redis/cache/metrics.js';
import type { TrackingLink } from '../src/redis/cache/tracking-link.js';

// The cache's bookkeeping alone (pure logic): links are stand-ins whose trust and epoch the test sets.
// How real links behave against Redis is in client-cache.test.ts and client-cache-faults.test.ts.

interface FakeLink {
  reader: Redis;
  epoch: number;
  isTrusted: boolean;
  trusted(): boolean;
  close(): void;
}

function fakeLink(): FakeLink {
  return {
    reader: {} as Redis,
    epoch: 0,
    isTrusted: true,
    trusted() {
      return this.isTrusted;
    },
    close() {},
  };
}

function setup(options = { maxEntries: 100, maxBytes: 1_000_000 }) {
  const registry = new Registry();
  const metrics = new CacheMetrics(registry);
  const cache = new ClientCache(options, metrics);
  const link = fakeLink();
  cache.track(link as unknown as TrackingLink);
  const value = async (name: string, labels: Record<string, string> = {}) =>
    (await registry.getSingleMetric(name)!.get()).values
      .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
      .reduce((sum, v) => sum + v.value, 0);
  return { cache, link, value };
}

/** A read whose answer the test releases when it wants, to put events between send and reply. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const key = (redisKey: string, variant?: string) => (variant ? { redisKey, variant } : { redisKey });

t.test('a miss fills the cache; the next read is a hit, counted by kind', async (t) => {
  const { cache, link, value } = setup();
  t.equal(cache.get('product', key('p:1')), undefined);
  const read = await cache.loadOne('product', key('p:1'), link.reader, async () => ({ id: '1' }));
  t.same(read, { id: '1' });
  t.same(cache.get('product', key('p:1')), { id: '1' });
  t.equal(await value('evergreen_cache_hits_total', { kind: 'product' }), 1);
  t.equal(await value('evergreen_cache_misses_total', { kind: 'product' }), 1);
  t.equal(await value('evergreen_cache_entries'), 1);
  t.ok((await value('evergreen_cache_bytes')) > 0);
});

t.test('an invalidation of the key while its read is in flight: the answer is returned, not kept', async (t) => {
  const { cache, link } = setup();
  const answer = deferred<string>();
  const loading = cache.loadOne('product', key('p:1'), link.reader, () => answer.promise);
  cache.invalidate(['p:1']);
  answer.resolve('old');
  t.equal(await loading, 'old');
  t.equal(cache.get('product', key('p:1')), undefined, 'not cached: Redis may have changed it after the read');
});

t.test('an invalidation of another key does not spoil the read', async (t) => {
  const { cache, link } = setup();
  const answer = deferred<string>();
  const loading = cache.loadOne('product', key('p:1'), link.reader, () => answer.promise);
  cache.invalidate(['p:2']);
  answer.resolve('v');
  await loading;
  t.equal(cache.get('product', key('p:1')), 'v');
});

t.test('a flush while a read is in flight, or an epoch change, keeps its answer out', async (t) => {
  const { cache, link, value } = setup();
  const first = deferred<string>();
  const loading = cache.loadOne('product', key('p:1'), link.reader, () => first.promise);
  cache.flush('switch-master');
  first.resolve('v');
  await loading;
  t.equal(cache.get('product', key('p:1')), undefined, 'flush spoiled it');
  t.equal(await value('evergreen_cache_flushes_total', { reason: 'switch-master' }), 1);

  const second = deferred<string>();
  const again = cache.loadOne('product', key('p:1'), link.reader, () => second.promise);
  link.epoch += 1; // the reader reconnected meanwhile: tracking of that read is gone
  second.resolve('v');
  await again;
  t.equal(cache.get('product', key('p:1')), undefined, 'an epoch change spoiled it');
});

t.test('a value is served only while its link is trusted and in the epoch it was read in', async (t) => {
  const { cache, link } = setup();
  await cache.loadOne('product', key('p:1'), link.reader, async () => 'v');
  link.isTrusted = false;
  t.equal(cache.get('product', key('p:1')), undefined, 'not served while the link is silent');
  link.isTrusted = true;
  t.equal(cache.get('product', key('p:1')), 'v', 'served again once it answers (nothing was missed)');
  link.epoch += 1;
  t.equal(cache.get('product', key('p:1')), undefined, 'never served after the epoch changed');
  link.isTrusted = false;
  await cache.loadOne('product', key('p:2'), link.reader, async () => 'w');
  link.isTrusted = true;
  t.equal(cache.get('product', key('p:2')), undefined, 'a read made while untrusted is not kept');
});

t.test('reads on a connection that is not tracked are never kept', async (t) => {
  const { cache } = setup();
  const master = {} as Redis;
  t.equal(await cache.loadOne('product', key('p:1'), master, async () => 'v'), 'v');
  t.equal(cache.get('product', key('p:1')), undefined);
});

t.test('an invalidation drops every variant of its key; a null one flushes everything', async (t) => {
  const { cache, link, value } = setup();
  await cache.loadOne('page', key('index', 'a/20'), link.reader, async () => ['1']);
  await cache.loadOne('page', key('index', 'b/20'), link.reader, async () => ['2']);
  await cache.loadOne('product', key('p:1'), link.reader, async () => 'v');
  cache.invalidate(['index']);
  t.equal(cache.get('page', key('index', 'a/20')), undefined);
  t.equal(cache.get('page', key('index', 'b/20')), undefined);
  t.equal(cache.get('product', key('p:1')), 'v', 'other keys stay');
  t.equal(await value('evergreen_cache_invalidations_total'), 1);
  cache.invalidate(null);
  t.equal(cache.get('product', key('p:1')), undefined);
  t.equal(await value('evergreen_cache_flushes_total', { reason: 'flushdb' }), 1);
});

t.test("this instance's own write drops its keys at once, without counting an invalidation", async (t) => {
  const { cache, link, value } = setup();
  await cache.loadOne('product', key('p:1'), link.reader, async () => 'v');
  const answer = deferred<string>();
  const loading = cache.loadOne('product', key('p:2'), link.reader, () => answer.promise);
  cache.changed('p:1', 'p:2');
  answer.resolve('w');
  await loading;
  t.equal(cache.get('product', key('p:1')), undefined);
  t.equal(cache.get('product', key('p:2')), undefined, 'a read in flight is spoiled too');
  t.equal(await value('evergreen_cache_invalidations_total'), 0);
});

t.test('bounded in entries and bytes, least recently used first out', async (t) => {
  const { cache, link, value } = setup({ maxEntries: 3, maxBytes: 4000 });
  for (const id of ['1', '2', '3']) await cache.loadOne('product', key(`p:${id}`), link.reader, async () => id);
  cache.get('product', key('p:1')); // 1 is now the most recently used
  await cache.loadOne('product', key('p:4'), link.reader, async () => '4');
  t.equal(cache.get('product', key('p:2')), undefined, 'the least recently used went');
  t.equal(cache.get('product', key('p:1')), '1');
  t.equal(await value('evergreen_cache_entries'), 3);
  await cache.loadOne('product', key('p:big'), link.reader, async () => 'x'.repeat(5000));
  t.equal(cache.get('product', key('p:big')), undefined, 'larger than the whole cache: not kept');
  t.ok((await value('evergreen_cache_bytes')) <= 4000);
  cache.invalidate(['p:2', 'p:big']); // keys no longer cached: nothing to do, nothing breaks
  t.equal(cache.get('product', key('p:1')), '1');
});

t.test('values a read did not find are returned, never cached', async (t) => {
  const { cache, link } = setup();
  const values = await cache.load('product', [key('p:1'), key('p:2')], link.reader, async () => ['v', undefined]);
  t.same(values, ['v', undefined]);
  t.equal(cache.get('product', key('p:1')), 'v');
  t.equal(cache.get('product', key('p:2')), undefined);
});

t.test(
  "a lagging replica's reads: dropped when it is found lagging, neither served nor kept while it lags",
  async (t) => {
    const { cache, link, value } = setup();
    const other = fakeLink();
    cache.track(other as unknown as TrackingLink);
    const lagging = new Set<Redis>();
    cache.readableWhen((reader) => !lagging.has(reader));
    await cache.loadOne('product', key('p:1'), link.reader, async () => 'from-lagging');
    await cache.loadOne('product', key('p:2'), other.reader, async () => 'from-other');
    const inFlight = deferred<string>();
    const loading = cache.loadOne('product', key('p:3'), link.reader, () => inFlight.promise);

    lagging.add(link.reader);
    t.equal(cache.get('product', key('p:1')), undefined, 'not served while its replica lags');
    cache.dropReadBy([link.reader]);
    inFlight.resolve('late');
    await loading;
    t.equal(await value('evergreen_cache_flushes_total', { reason: 'replica-lag' }), 1);
    t.equal(cache.get('product', key('p:2')), 'from-other', "the other replica's entries stay");
    t.equal(cache.get('product', key('p:3')), undefined, 'a read in flight from it is not kept');
    await cache.loadOne('product', key('p:4'), link.reader, async () => 'while-lagging');
    lagging.delete(link.reader);
    t.equal(cache.get('product', key('p:1')), undefined, 'dropped for good: not served again once it is back');
    t.equal(cache.get('product', key('p:4')), undefined, 'nothing read while it lagged was kept');
    await cache.loadOne('product', key('p:1'), link.reader, async () => 'fresh');
    t.equal(cache.get('product', key('p:1')), 'fresh', 'back in rotation: cached again');
  },
);
