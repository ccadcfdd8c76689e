import t from 'tap';
import {
  MasterOffsets,
  ReplicaLag,
  readerToMove,
  type LagSettings,
  type ProbeResult,
} from '../src/redis/replica-lag.js';

// The lag rules alone (pure logic, time passed in). How the probes behave against a throttled replica is in
// replica-lag.test.ts.

const SETTINGS: LagSettings = { maxLagMs: 1000, probeTimeoutMs: 200, readmitAfterMs: 1000 };
const TICK = 250;

const answer = (sentAt: number, offset: number, linkUp = true): ProbeResult => ({
  kind: 'answer',
  sentAt,
  role: 'slave',
  linkUp,
  offset,
});

/** A master whose offset is `offsetAt(time)`, sampled every tick from 0 to `until`. */
function sampled(until: number, offsetAt: (time: number) => number): MasterOffsets {
  const master = new MasterOffsets();
  for (let time = 0; time <= until; time += TICK) master.record(time, offsetAt(time));
  return master;
}

t.test('an idle master: a replica with everything has no lag, however long ago the last write', async (t) => {
  const master = sampled(60_000, () => 5000);
  const replica = new ReplicaLag(SETTINGS);
  const verdict = replica.observe(60_000, answer(60_000, 5000), master);
  t.equal(verdict.lagMs, 0);
  t.equal(verdict.rotation, 'in');
});

t.test('a write after a long idle time: lag counts from that write, not from the idle start', async (t) => {
  const master = sampled(60_000, (time) => (time < 59_500 ? 5000 : 5100));
  t.equal(master.lagMs(5000, 60_000), 500, 'missing the write first seen at 59.5 s');
  t.equal(master.lagMs(5100, 60_000), 0, 'has it');
  t.equal(master.lagMs(4000, 60_000), 60_000, 'missing even older writes: as old as the history goes');
});

t.test(
  'steady writes: a replica two ticks behind stays in; one stuck at an offset leaves past the threshold',
  async (t) => {
    const master = sampled(10_000, (time) => time * 10);
    const keeping = new ReplicaLag(SETTINGS);
    const stuck = new ReplicaLag(SETTINGS);
    const left: number[] = [];
    for (let time = 5000; time <= 10_000; time += TICK) {
      t.equal(keeping.observe(time, answer(time, (time - 2 * TICK) * 10 + 1), master).rotation, 'in');
      const verdict = stuck.observe(time, answer(time, 50_000), master);
      if (verdict.left) left.push(time);
    }
    t.equal(keeping.lagMs, TICK, 'two ticks behind: lag of one tick (a lower bound, short by at most a tick)');
    t.strictSame(left, [6500], 'stuck at the offset of 5 s: out once its lag passes 1 s (1.25 s at 6.5 s), told once');
    t.equal(stuck.lagMs, 10_000 - 5250, 'the lag grows with time: the oldest missing write was first seen at 5.25 s');
    t.equal(stuck.rotation, 'out');
  },
);

t.test('a probe not answered: nothing decided before the timeout, out at it, lag at least its wait', async (t) => {
  const master = sampled(1000, () => 100);
  const replica = new ReplicaLag(SETTINGS);
  t.equal(replica.observe(0, answer(0, 100), master).rotation, 'in');
  let verdict = replica.observe(150, { kind: 'silent', sentAt: 0 }, master);
  t.equal(verdict.rotation, 'in', 'still waiting: no verdict yet');
  verdict = replica.observe(200, { kind: 'silent', sentAt: 0 }, master);
  t.equal(verdict.rotation, 'out', 'unanswered for the probe timeout: out, even with an idle master');
  t.ok(verdict.left);
  t.equal(verdict.lagMs, 200);
  // ioredis fails the probe at its command timeout; the next one is not answered either.
  replica.observe(500, { kind: 'error', sentAt: 0 }, master);
  verdict = replica.observe(950, { kind: 'silent', sentAt: 750 }, master);
  t.equal(verdict.lagMs, 950, 'silent since the first unanswered probe: the lag grows with the silence');
  t.equal(replica.observe(1000, answer(1000, 100), master).lagMs, 0, 'it answers with everything: no lag');

  const fresh = new ReplicaLag(SETTINGS);
  t.equal(fresh.observe(100, { kind: 'silent', sentAt: 0 }, master).rotation, 'unknown', 'never answered: not in');
  t.equal(fresh.observe(300, { kind: 'error', sentAt: 250 }, master).rotation, 'out', 'a failed probe: out');
});

t.test('hysteresis: out at once, back only after a second of good probes; a bad one starts it again', async (t) => {
  const master = sampled(20_000, () => 100);
  const replica = new ReplicaLag(SETTINGS);
  replica.observe(0, answer(0, 100), master);
  replica.observe(400, { kind: 'silent', sentAt: 100 }, master);
  t.equal(replica.rotation, 'out');
  const back: number[] = [];
  // Good for 500 ms (a throttled replica's burst), then stopped again, then good for good.
  for (const time of [500, 750, 1000]) replica.observe(time, answer(time, 100), master);
  t.equal(replica.rotation, 'out', 'half a second of good probes is not enough');
  replica.observe(1300, { kind: 'silent', sentAt: 1050 }, master);
  for (let time = 1500; time <= 3000; time += TICK) {
    if (replica.observe(time, answer(time, 100), master).back) back.push(time);
  }
  t.strictSame(back, [2500], 'back once every probe for a full second was good, told once');
  t.equal(replica.rotation, 'in');
});

t.test('a replica whose link to the master is down is out, whatever its offset', async (t) => {
  const master = sampled(1000, () => 100);
  const replica = new ReplicaLag(SETTINGS);
  t.equal(replica.observe(1000, answer(1000, 100, false), master).rotation, 'out');
});

t.test('a node that says it is the master has everything', async (t) => {
  const master = sampled(5000, (time) => time);
  const replica = new ReplicaLag(SETTINGS);
  const verdict = replica.observe(
    5000,
    { kind: 'answer', sentAt: 5000, role: 'master', linkUp: true, offset: 1 },
    master,
  );
  t.equal(verdict.rotation, 'in');
  t.equal(verdict.lagMs, 0);
});

t.test("another master's history: a smaller offset or a clear starts the history again", async (t) => {
  const master = sampled(5000, (time) => 1000 + time);
  t.equal(master.lagMs(1000, 5000), 4750);
  master.record(5250, 500);
  t.equal(master.lagMs(400, 5500), 250, 'the new, smaller offsets alone count');
  master.clear();
  t.equal(master.lagMs(0, 6000), 0, 'no history: no lag can be shown');
});

t.test('after a stopped replica keeps up again, the reader that preferred it is the one sent back', async (t) => {
  const a = '127.0.0.1:6380';
  const b = '127.0.0.1:6381';
  const healthy = [
    { node: b, lagMs: 0 },
    { node: a, lagMs: 300 },
  ];
  t.equal(readerToMove([b, b], healthy, 2000), 0, 'reader 0 prefers the first by address, a');
  t.equal(readerToMove([a, a], healthy, 2000), 1, 'reader 1 prefers b');
  t.equal(readerToMove([a, b], healthy, 2000), undefined, 'each on its own: nothing to move');
  t.equal(readerToMove([b, undefined], healthy, 2000), undefined, 'not shared: nothing to move');
  const aLags = [healthy[0]!, { node: a, lagMs: 5000 }];
  t.equal(readerToMove([b, b], aLags, 2000), undefined, 'the idle one still lags by its acknowledgements: stay');
  t.equal(readerToMove([b, b], [healthy[0]!], 2000), undefined, 'a single replica: nowhere to go');
});
