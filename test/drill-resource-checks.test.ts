import t from 'tap';
import type { CycleReport } from '../ops/drill/cycle-stats.js';
import { faultFigures, spread } from '../ops/drill/fault-summary.js';
import { problemsOf, resourceInvariant } from '../ops/drill/resource-checks.js';

// Invariant 6 and the per-fault figures are pure functions of the cycle reports: each verdict here can fail.
const cycle = (over: Partial<CycleReport>): CycleReport => ({
  cycle: 1,
  fault: 'memory-full',
  faultAt: 0,
  actions: [],
  timeline: {},
  writeOutageMs: 20_000,
  acknowledged: 100,
  lost: 0,
  duplicates: 0,
  retries: 10,
  answersByCode: { '503 STORE_FULL': 40 },
  reads: 400,
  failedReads: 0,
  failedReadsByCode: {},
  healed: true,
  healMs: 1000,
  notes: [],
  events: [],
  resource: {
    restoredMs: 21_000,
    writableMs: 20,
    expectedAlert: 'EvergreenRedisMemoryFull',
    alerts: { EvergreenRedisMemoryFull: 6000 },
    slowestReadMs: 80,
  },
  ...over,
});

t.test('a full memory or disk: refused with its code, reads kept, alerted, writable again', async (t) => {
  t.same(problemsOf(cycle({})), [], 'all of it seen: no problem');
  t.match(problemsOf(cycle({ answersByCode: { '503 SERVICE_UNAVAILABLE': 40 } })), [
    /no purchase was refused with 503 STORE_FULL/,
  ]);
  t.match(problemsOf(cycle({ answersByCode: { '503 STORE_FULL': 1, '500 INTERNAL_ERROR': 2 } })), [
    /2× 500 INTERNAL_ERROR/,
  ]);
  t.match(problemsOf(cycle({ failedReads: 3 })), [/3 catalog reads failed/]);
  const quiet = cycle({});
  quiet.resource!.alerts = {};
  t.match(problemsOf(quiet), [/EvergreenRedisMemoryFull did not fire/]);
  const stuck = cycle({ fault: 'disk-full', answersByCode: { '503 STORE_NOT_PERSISTING': 5 } });
  delete stuck.resource!.writableMs;
  stuck.resource!.expectedAlert = undefined;
  t.match(problemsOf(stuck), [/did not take writes again/], 'no Prometheus: the alert is not asked for');
  t.match(problemsOf(cycle({ resource: undefined })), [/observed nothing/]);
});

t.test(
  'a slow replica: called lagging, left with a small share of reads, WAIT still counted the good one',
  async (t) => {
    const slow = (replica: Partial<NonNullable<NonNullable<CycleReport['resource']>['replica']>>, over = {}) =>
      cycle({
        fault: 'slow-replica',
        answersByCode: {},
        resource: {
          restoredMs: 20_000,
          alerts: {},
          slowestReadMs: 300,
          replica: {
            label: '127.0.0.1:7001',
            excludedMs: 400,
            maxLagMs: 2600,
            servedByIt: 5,
            servedByReplicas: 200,
            ...replica,
          },
        },
        ...over,
      });
    t.same(problemsOf(slow({})), []);
    t.match(problemsOf(slow({ excludedMs: undefined })), [/never called the replica lagging/]);
    t.match(problemsOf(slow({ servedByIt: 90 })), [/served 90 of the replicas' 200 reads/]);
    t.match(problemsOf(slow({}, { answersByCode: { '503 NOT_DURABLE': 2 } })), [/2× NOT_DURABLE/]);
    t.match(problemsOf(slow({}, { acknowledged: 0 })), [/no purchase was acknowledged/]);
  },
);

t.test('invariant 6 only when a resource fault ran; it fails on one bad cycle', async (t) => {
  t.equal(resourceInvariant([cycle({ fault: 'pause-master', resource: undefined })]), undefined);
  const verdict = resourceInvariant([cycle({}), cycle({ cycle: 2, failedReads: 1 })]);
  t.equal(verdict?.pass, false);
  t.same(verdict?.counts, { cycles: 2, failed: 1 });
  t.match(verdict?.examples, [/cycle 2 \(memory-full\): 1 catalog reads failed/]);
});

t.test('per-fault figures: min / median / max over the cycles; refusals are not unknown answers', async (t) => {
  t.same(spread([3, 1, 2]), { min: 1, median: 2, max: 3 });
  t.same(spread([4, 1, 2, 3]), { min: 1, median: 2.5, max: 4 });
  t.equal(spread([]), undefined);
  const figures = faultFigures([
    cycle({ writeOutageMs: 1000, answersByCode: { '503 STORE_FULL': 9, '0 TIMEOUT': 2, '504 GATEWAY_TIMEOUT': 1 } }),
    cycle({ cycle: 2, writeOutageMs: 3000 }),
    cycle({ cycle: 3, fault: 'pause-master', writeOutageMs: 7000, resource: undefined }),
  ]);
  t.equal(figures.length, 2);
  t.match(figures[0], {
    fault: 'memory-full',
    cycles: 2,
    writeOutageMs: { min: 1000, median: 2000, max: 3000 },
    unknownAnswers: { min: 0, median: 1.5, max: 3 },
    alerted: { fired: 2, of: 2 },
  });
  t.notOk('alerted' in figures[1]!, 'a process fault has no alert figure');
});
