import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { cycleSeries, LEAD_MS } from '../ops/drill/cycle-series.js';
import { longestGapWindow } from '../ops/drill/cycle-stats.js';
import { FenceRecorder } from '../ops/drill/fence-recorder.js';
import type { Read } from '../ops/drill/load.js';
import type { PurchaseOp } from '../ops/drill/purchase-op.js';

// What a drill cycle's timeline is drawn from: its load second by second, where its write outage lies, and the
// instances' fence as their /metrics showed it.

const FAULT = 100_000;

const op = (attempts: [endedAt: number, status: number, code: string][]): PurchaseOp => ({
  key: 'k',
  userId: 'u',
  lines: [],
  invokedAt: 0,
  outcome: 'ok',
  attempts: attempts.map(([endedAt, status, code]) => ({ startedAt: endedAt - 5, endedAt, status, code })),
});
const read = (endedAt: number, status: number, code = String(status)): Read => ({
  startedAt: endedAt - 5,
  endedAt,
  status,
  code,
});

t.test('the series: each answer in the second it ended, from 2 s before the fault to the last whole second', (t) => {
  const ops = [
    op([
      [FAULT - LEAD_MS - 1, 201, '201'], // before the series: left out
      [FAULT - 1500, 201, '201'],
      [FAULT + 300, 0, 'TIMEOUT'],
      [FAULT + 900, 503, 'NOT_DURABLE'],
      [FAULT + 950, 503, 'NOT_DURABLE'],
      [FAULT + 1200, 201, '201'],
      [FAULT + 2100, 201, '201'], // in the partial last second: left out
    ]),
  ];
  const reads = [read(FAULT - 10, 200), read(FAULT + 10, 200), read(FAULT + 20, 0, 'TIMEOUT')];
  const series = cycleSeries({ faultAt: FAULT, endAt: FAULT + 2500 }, ops, reads);
  t.same(
    series.map((s) => s.ms),
    [-2000, -1000, 0, 1000],
  );
  t.same(
    series.map((s) => s.acknowledged),
    [1, 0, 0, 1],
  );
  t.same(
    series.map((s) => [s.reads, s.failedReads]),
    [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
    ],
  );
  t.same(series[2]?.answersByCode, { '0 TIMEOUT': 1, '503 NOT_DURABLE': 2 });
  t.end();
});

t.test('the write outage lies between the last 201 before the longest gap and the one that ended it', (t) => {
  t.same(longestGapWindow([0, 100, 900, 1000], 150, 0, 1100), { start: 100, end: 900 });
  t.same(longestGapWindow([0, 100], 150, 0, 1100), { start: 100, end: 1100 }, 'no 201 after it: to the end');
  t.same(longestGapWindow([], 150, 50, 1100), { start: 50, end: 1100 }, 'no 201 at all: the whole window');
  t.end();
});

t.test(
  "the fence recorder keeps each instance's fence going up and down, and counts what it could not read",
  async (t) => {
    let fenced = 0;
    const server = createServer((req, res) => {
      res.end(`# TYPE evergreen_failover_fence gauge\nevergreen_failover_fence ${fenced}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => server.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const apis = async () => [
      { name: 'api-up', host: '127.0.0.1', port: 0, url },
      { name: 'api-gone', host: '127.0.0.1', port: 1, url: 'http://127.0.0.1:1' },
    ];
    const recorder = new FenceRecorder({ apis });
    recorder.start();
    await sleep(600);
    fenced = 1;
    await sleep(600);
    fenced = 0;
    await sleep(600);
    await recorder.stop();
    t.same(
      recorder.changes.map((c) => [c.api, c.fenced]),
      [
        ['api-up', true],
        ['api-up', false],
      ],
    );
    const [up, down] = recorder.changes;
    t.ok(up && down && down.at - up.at >= 350 && down.at - up.at <= 900, 'each change when it was seen');
    const { samples, failures, intervalMs } = recorder.stats;
    t.equal(intervalMs, 250);
    t.ok(samples >= 5, `the one that answers, read every 250 ms (${samples} samples)`);
    t.ok(failures >= 5, `the one that does not, counted (${failures} failures)`);
  },
);
