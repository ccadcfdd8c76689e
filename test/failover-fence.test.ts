import t from 'tap';
import { Registry } from 'prom-client';
import { BusinessMetrics } from '../src/metrics.js';
import { FailoverFence, parseSentinelEvent, type SentinelView } from '../src/redis/failover-fence.js';

// The fence's logic on its own: what each Sentinel message does to "may a write be acknowledged now".
const A = { host: '127.0.0.1', port: 6379 };
const B = { host: '127.0.0.1', port: 6380 };
const view = (master = A, flags = ['master']): SentinelView => ({ master, flags, failoverTimeoutMs: 3000 });
const event = (channel: string, message: string) => {
  const parsed = parseSentinelEvent(channel, message, 'evergreen');
  if (!parsed) throw new Error(`${channel} ${message} was not parsed`);
  return parsed;
};

/** Three Sentinels, all connected and agreeing on A; a clock the test moves. */
function fenceOfThree() {
  let now = 1_000_000;
  const fence = new FailoverFence(3, () => now);
  for (const id of ['s1', 's2', 's3']) fence.connected(id, view());
  return { fence, tick: (ms: number) => (now += ms) };
}

t.test('Sentinel messages are parsed only when about our master', async (t) => {
  t.same(parseSentinelEvent('+sdown', 'master evergreen 127.0.0.1 6379', 'evergreen'), { kind: 'down', master: A });
  t.same(parseSentinelEvent('+odown', 'master evergreen 127.0.0.1 6379 #quorum 2/2', 'evergreen'), {
    kind: 'down',
    master: A,
  });
  t.same(
    parseSentinelEvent(
      '+selected-slave',
      'slave 127.0.0.1:6380 127.0.0.1 6380 @ evergreen 127.0.0.1 6379',
      'evergreen',
    ),
    { kind: 'failover', master: A },
    'an event about a replica names its master after the @',
  );
  t.same(parseSentinelEvent('+switch-master', 'evergreen 127.0.0.1 6379 127.0.0.1 6380', 'evergreen'), {
    kind: 'switch',
    from: A,
    to: B,
  });
  t.equal(
    parseSentinelEvent('+sdown', 'slave 127.0.0.1:6380 127.0.0.1 6380 @ evergreen 127.0.0.1 6379', 'evergreen'),
    undefined,
    'a replica going down is no doubt about the master',
  );
  t.equal(
    parseSentinelEvent('-odown', 'sentinel 1a2b 127.0.0.1 26380 @ evergreen 127.0.0.1 6379', 'evergreen'),
    undefined,
  );
  t.equal(parseSentinelEvent('+sdown', 'master other 127.0.0.1 7000', 'evergreen'), undefined, 'another master name');
  t.equal(parseSentinelEvent('+sdown', 'sentinel 1a2b 127.0.0.1 26380 @ other 127.0.0.1 7000', 'evergreen'), undefined);
  t.equal(
    parseSentinelEvent('+tilt', '#tilt mode entered', 'evergreen'),
    undefined,
    'channels that say nothing about the master',
  );
});

t.test('down until a majority of the Sentinels has been heard', async (t) => {
  const fence = new FailoverFence(3);
  t.ok(fence.fenced, 'nothing heard yet');
  fence.connected('s1', view());
  t.ok(fence.fenced, 'one of three could miss a failover decided by the other two');
  fence.connected('s2', view());
  t.notOk(fence.fenced, 'two of three');
  t.same(fence.master, A);
  fence.disconnected('s2');
  t.ok(fence.fenced, 'back to one of three');
});

t.test(
  'one Sentinel doubting the master raises the fence and changes the epoch; its all-clear lowers it',
  async (t) => {
    const { fence } = fenceOfThree();
    const before = fence.epoch;
    fence.apply('s2', event('+sdown', 'master evergreen 127.0.0.1 6379'));
    t.ok(fence.fenced);
    t.ok(fence.epoch > before, 'a write leased before the doubt can no longer be acknowledged');
    const during = fence.epoch;
    fence.apply('s2', event('-sdown', 'master evergreen 127.0.0.1 6379'));
    t.notOk(fence.fenced, 'the master answered again before any failover began');
    t.equal(fence.epoch, during, 'lowering does not change the epoch: a write leased while fenced was never sent');
  },
);

t.test('a failover keeps the fence up until the switch, whatever the old master does meanwhile', async (t) => {
  const { fence } = fenceOfThree();
  fence.apply('s1', event('+sdown', 'master evergreen 127.0.0.1 6379'));
  fence.apply('s1', event('+try-failover', 'master evergreen 127.0.0.1 6379'));
  fence.apply('s1', event('-sdown', 'master evergreen 127.0.0.1 6379'));
  fence.apply('s1', event('-odown', 'master evergreen 127.0.0.1 6379'));
  t.ok(fence.fenced, 'the paused master resumed mid-failover: what it takes now may be discarded');
  const epoch = fence.epoch;
  t.same(
    fence.apply('s1', event('+switch-master', 'evergreen 127.0.0.1 6379 127.0.0.1 6380')),
    B,
    'the switch names the new master',
  );
  t.notOk(fence.fenced);
  t.same(fence.master, B);
  t.ok(fence.epoch > epoch, 'nothing leased on the old master can be acknowledged');
  t.equal(
    fence.apply('s2', event('+switch-master', 'evergreen 127.0.0.1 6379 127.0.0.1 6380')),
    undefined,
    'another Sentinel confirming is no new switch',
  );
  fence.apply('s3', event('+sdown', 'master evergreen 127.0.0.1 6379'));
  t.notOk(fence.fenced, 'a lagging Sentinel doubting the OLD master says nothing about the new one');
});

t.test('a failover whose end was never heard lapses after the failover timeout', async (t) => {
  const { fence, tick } = fenceOfThree();
  fence.apply('s3', event('+vote-for-leader', 'master evergreen 127.0.0.1 6379 0123abcd 7'));
  t.ok(fence.fenced);
  tick(2999);
  t.ok(fence.fenced);
  tick(2);
  t.notOk(fence.fenced);
});

t.test('an aborted failover lowers the fence', async (t) => {
  const { fence } = fenceOfThree();
  fence.apply('s1', event('+try-failover', 'master evergreen 127.0.0.1 6379'));
  fence.apply('s1', event('-failover-abort-no-good-slave', 'master evergreen 127.0.0.1 6379'));
  t.notOk(fence.fenced);
});

t.test('what a Sentinel reports when its subscription starts counts like its events', async (t) => {
  const { fence } = fenceOfThree();
  const before = fence.epoch;
  fence.connected('s2', view(A, ['o_down', 's_down', 'master']));
  t.ok(fence.fenced, 'it already calls the master down');
  t.ok(fence.epoch > before);
  fence.connected('s2', view(A, ['master', 'failover_in_progress']));
  t.ok(fence.fenced, 'it runs a failover');
  fence.connected('s2', view(B));
  t.ok(fence.fenced, 'it names another master than ours');
  fence.connected('s2', view(A));
  t.notOk(fence.fenced);
});

t.test('the fence gauge reads the fence at every scrape, so a lapsed failover shows too', async (t) => {
  const { fence, tick } = fenceOfThree();
  const registry = new Registry();
  const metrics = new BusinessMetrics(registry);
  metrics.reportFence(() => fence.fenced);
  const gauge = async () => (await registry.getSingleMetric('evergreen_failover_fence')?.get())?.values[0]?.value;
  t.equal(await gauge(), 0);
  fence.apply('s1', event('+try-failover', 'master evergreen 127.0.0.1 6379'));
  t.equal(await gauge(), 1, 'up while a failover runs');
  tick(3001);
  t.equal(await gauge(), 0, 'down once the flag lapsed, though no message said so');
});
