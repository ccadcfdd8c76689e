import t from 'tap';
import { Redis, closeClient, connect, rateLimitOptions } from '../src/redis/connections.js';
import { defineScripts } from '../src/redis/scripts/index.js';
import { SharedCounters } from '../src/redis/shared-counters.js';
import { testConfig } from './helpers/app.js';
import { eventually } from './helpers/fixtures.js';
import { startTestTopology } from './helpers/topology.js';

// The general rate limit's store, against a real Redis: each instance counts locally, sums in Redis.
const topo = await startTestTopology(t);
const cfg = testConfig(topo).redis;
const WINDOW_MS = 60_000;
const SYNC_MS = 20;
const PREFIX = `${cfg.keyPrefix}test:rl:`; // the service's user may touch its own keys only

async function client(): Promise<Redis> {
  const redis = new Redis(rateLimitOptions(cfg));
  redis.on('error', () => undefined);
  defineScripts(redis);
  t.teardown(() => closeClient(redis));
  await connect(redis, 5000); // lazy, as the service's clients are
  return redis;
}

const hit = (counters: SharedCounters, key: string, max = 1_000_000) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) =>
    counters.incr(key, (err, result) => (err ? reject(err) : resolve(result)), WINDOW_MS, max),
  );

const settle = () => new Promise((resolve) => setTimeout(resolve, SYNC_MS * 4));

t.test('two instances: a first request asks Redis, later ones are counted locally and synced', async (t) => {
  const [a, b] = [await client(), await client()];
  const one = new SharedCounters(a, PREFIX, WINDOW_MS, SYNC_MS);
  const two = new SharedCounters(b, PREFIX, WINDOW_MS, SYNC_MS);
  for (let i = 1; i <= 5; i++) t.equal((await hit(one, '10.0.0.1')).current, i, 'instance one counts');
  await settle();
  t.equal(await a.get(`${PREFIX}10.0.0.1`), '5', 'synced to Redis');
  t.equal((await hit(two, '10.0.0.1')).current, 6, "instance two's first request is answered with Redis's count");
  for (let i = 7; i <= 8; i++) t.equal((await hit(two, '10.0.0.1')).current, i, 'then counted locally');
  await settle();
  t.equal(await a.get(`${PREFIX}10.0.0.1`), '8', 'Redis holds the sum of both instances');
  // Instance one last heard 5: it learns instance two's hits with its next sync.
  t.equal((await hit(one, '10.0.0.1')).current, 6, 'until it syncs again, instance one knows its own hits');
  await settle();
  const seen = await hit(one, '10.0.0.1');
  t.equal(seen.current, 10, 'after its sync, instance one counts the three hits of instance two');
  t.ok(seen.ttl > 0 && seen.ttl <= WINDOW_MS, `the window Redis holds (${seen.ttl} ms left)`);
  const ttl = await a.pttl(`${PREFIX}10.0.0.1`);
  t.ok(ttl > 0 && ttl <= WINDOW_MS, 'the Redis counter expires with its window');
  t.equal((await hit(two, '10.0.0.2')).current, 1, 'another client has a counter of its own');
});

t.test('a first burst on both instances is answered on the Redis total: exactly max admitted', async (t) => {
  const [a, b] = [await client(), await client()];
  const one = new SharedCounters(a, PREFIX, WINDOW_MS, SYNC_MS);
  const two = new SharedCounters(b, PREFIX, WINDOW_MS, SYNC_MS);
  const max = 10;
  const burst = (n: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => hit(i % 2 ? two : one, '10.0.0.9', max)));
  const admitted = (answers: { current: number }[]) => answers.filter((r) => r.current <= max).length;
  t.equal(admitted(await burst(30)), max, `a cold burst: ${max} of 30 within the limit, on both instances`);
  t.equal(await a.get(`${PREFIX}10.0.0.9`), '30', 'every hit counted in Redis');
  t.equal(admitted(await burst(10)), 0, 'past the limit, none');
});

t.test('while Redis is unreachable, counts keep limiting locally and reach Redis once it answers', async (t) => {
  const redis = await client();
  const counters = new SharedCounters(redis, PREFIX, WINDOW_MS, SYNC_MS);
  redis.disconnect();
  for (let i = 1; i <= 4; i++) t.equal((await hit(counters, '10.0.0.3')).current, i, 'no error, still counted');
  await new Promise((resolve) => setTimeout(resolve, SYNC_MS * 3)); // syncs fail meanwhile
  t.equal((await hit(counters, '10.0.0.3')).current, 5, 'nothing lost to the failed syncs');
  await redis.connect();
  const total = await eventually(
    () => redis.get(`${PREFIX}10.0.0.3`),
    (v) => v === '5',
    3000,
  );
  t.equal(total, '5', 'every hit reached Redis once it answered');
  await counters.close();
});
