import t, { type Test } from 'tap';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../stack/helpers/state.js';
import { serveSupervisor } from '../stack/supervisor/endpoint.js';
import { SupervisorReport } from '../stack/supervisor/report.js';
import type { RestartPolicy } from '../stack/supervisor/restart-policy.js';
import { Supervised, type ProcessSpec } from '../stack/supervisor/supervised.js';
import { freePorts, waitFor } from './helpers/fixtures.js';

/** The supervisor's restart policy, on real processes: small Node HTTP servers that answer with their pid. */

// Serves its pid on the port given.
const SERVER = `require('node:http')
  .createServer((req, res) => res.end(String(process.pid)))
  .listen(Number(process.argv[1]), '127.0.0.1');`;
// As NGINX does: the master spawns a worker that holds the listening socket, and survives a SIGKILL of the master.
const MASTER_AND_WORKER = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(SERVER)},
  process.argv[1]], { stdio: 'inherit' });
setInterval(() => {}, 1000);`;
const FAST: RestartPolicy = { initialDelayMs: 100, maxDelayMs: 300, maxRestarts: 5, windowMs: 60_000 };

interface Web {
  proc: Supervised;
  reports: SupervisorReport[];
  /** The pid that answers on its port (a worker's, for MASTER_AND_WORKER). */
  answer: () => Promise<number>;
}

/** A supervised program on a free port, stopped on teardown; every report it makes is kept. */
async function supervise(t: Test, program: string, more: Partial<ProcessSpec> = {}): Promise<Web> {
  const [port] = (await freePorts(1)) as [number];
  const dir = t.testdir();
  const reports: SupervisorReport[] = [];
  const answer = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    return Number(await res.text());
  };
  const proc = new Supervised(
    {
      name: 'web',
      command: process.execPath,
      args: ['-e', program, String(port)],
      log: path.join(dir, 'web.log'),
      cwd: dir,
      detached: false,
      ready: answer,
      readyTimeoutMs: 10_000,
      restart: FAST,
      ...more,
    },
    (report) => reports.push(report as SupervisorReport),
  );
  t.teardown(() => proc.stop());
  return { proc, reports, answer };
}

const kinds = (reports: SupervisorReport[]) => reports.map((r) => r.kind);
const newPid = (proc: Supervised, old: number | undefined) =>
  waitFor('a new pid', 10_000, async () => {
    if (proc.pid === undefined || proc.pid === old) throw new Error('not restarted yet');
    return proc.pid;
  });

t.test('a process killed from outside (kill -9) is restarted, counted and reported', async (t) => {
  const { proc, reports, answer } = await supervise(t, SERVER);
  proc.start();
  await proc.waitUntilReady();
  const first = proc.pid as number;
  t.equal(await answer(), first);
  t.equal(proc.restarts, 0);

  process.kill(first, 'SIGKILL');
  // A wait begun while it is down is not failed by the crash: it sees the restarted process.
  await proc.waitUntilReady(10_000);
  const second = proc.pid as number;
  t.not(second, first, 'a new process');
  t.equal(await answer(), second, 'which serves');
  t.notOk(isAlive(first), 'the old one is gone');
  t.equal(proc.restarts, 1);
  t.equal(proc.crash, undefined, 'not down for good');
  t.equal(proc.gaveUp, undefined);
  t.type(proc.lastCrashAt, 'number');
  await waitFor('the restart report', 5000, async () => {
    if (reports.length < 2) throw new Error(kinds(reports).join());
  });
  const [crash, restarted] = reports;
  t.match(crash, { kind: 'crash', process: 'web', restartInMs: FAST.initialDelayMs });
  t.match(crash?.message, /^web exited unexpectedly \(SIGKILL\); restarting it in 0\.1 s \(restart 1\); log: /);
  t.match(restarted?.message, /^web restarted after a crash \(restart 1, 0\.1 s backoff\), ready in \d+ ms$/);
});

t.test('the backoff doubles with each crash in the window, up to maxDelayMs', async (t) => {
  const { proc, reports } = await supervise(t, SERVER);
  proc.start();
  await proc.waitUntilReady();
  const waited: number[] = [];
  for (let i = 0; i < 4; i++) {
    const old = proc.pid;
    const killedAt = Date.now();
    process.kill(old as number, 'SIGKILL');
    await newPid(proc, old);
    waited.push(Date.now() - killedAt);
    await proc.waitUntilReady();
  }
  const delays = reports.filter((r) => r.kind === 'crash').map((r) => r.restartInMs);
  t.same(delays, [100, 200, 300, 300], 'initialDelay × 2^(crashes − 1), capped');
  for (const [i, ms] of waited.entries()) t.ok(ms >= (delays[i] ?? 0), `restart ${i + 1} came after ${ms} ms`);
  t.equal(proc.restarts, 4);
});

t.test('a process that crashes at once every time is given up after maxRestarts, loudly', async (t) => {
  const policy = { initialDelayMs: 50, maxDelayMs: 1000, maxRestarts: 3, windowMs: 60_000 };
  const { proc, reports } = await supervise(t, 'console.error("no config"); process.exit(3)', { restart: policy });
  proc.start();
  // A wait for it fails once, and only once, the supervisor gives up.
  await t.rejects(proc.waitUntilReady(20_000), /^GAVE UP on web after 4 crashes in 60 s \(the last: exited/);
  t.equal(proc.restarts, 3, 'maxRestarts restarts');
  t.ok(proc.gaveUp, 'gaveUp is set');
  t.equal(proc.crash, proc.gaveUp, 'and it is down for good');
  t.notOk(proc.running);
  t.same(kinds(reports), ['crash', 'crash', 'crash', 'gave-up']);
  t.same(
    reports.map((r) => r.restartInMs),
    [50, 100, 200, undefined],
  );
  t.match(proc.gaveUp?.message, /it stays down; log: .*web\.log\n {2}\| no config/, 'with the log tail');
  await sleep(500);
  t.equal(proc.restarts, 3, 'nothing more is tried');
  t.notOk(proc.restartPending);
});

t.test('crashes older than the window do not count towards giving up', async (t) => {
  const policy = { initialDelayMs: 100, maxDelayMs: 100, maxRestarts: 1, windowMs: 1500 };
  const { proc } = await supervise(t, SERVER, { restart: policy });
  proc.start();
  await proc.waitUntilReady();
  const first = proc.pid;
  process.kill(first as number, 'SIGKILL');
  await newPid(proc, first);
  await proc.waitUntilReady();
  await sleep(policy.windowMs);
  const old = proc.pid;
  process.kill(old as number, 'SIGKILL');
  await newPid(proc, old);
  t.equal(proc.restarts, 2, 'restarted again: the first crash has left the window');
  t.equal(proc.gaveUp, undefined);
  process.kill(proc.pid as number, 'SIGKILL');
  await waitFor('giving up', 5000, async () => proc.gaveUp ?? Promise.reject(new Error('not yet')));
  t.pass('a second crash within the window is one too many for maxRestarts 1');
});

t.test('stop() while a restart is pending calls it off: nothing is left running', async (t) => {
  const { proc, reports } = await supervise(t, SERVER, { restart: { ...FAST, initialDelayMs: 1500 } });
  proc.start();
  await proc.waitUntilReady();
  const old = proc.pid as number;
  process.kill(old, 'SIGKILL');
  await waitFor('the restart to be pending', 5000, async () => {
    if (!proc.restartPending) throw new Error('not yet');
  });
  await proc.stop();
  t.notOk(proc.restartPending, 'called off');
  await sleep(2000);
  t.equal(proc.pid, undefined, 'nothing was started');
  t.equal(proc.restarts, 0);
  t.notOk(isAlive(old));
  t.same(kinds(reports), ['crash']);
});

t.test('stop() during beforeRestart calls the restart off too; the hook runs before each restart only', async (t) => {
  let hooks = 0;
  let release = () => {};
  const beforeRestart = async () => {
    hooks += 1;
    await new Promise<void>((resolve) => (release = resolve));
  };
  const { proc } = await supervise(t, SERVER, { beforeRestart });
  proc.start();
  await proc.waitUntilReady();
  t.equal(hooks, 0, 'not before the first start');
  process.kill(proc.pid as number, 'SIGKILL');
  await waitFor('the hook', 5000, async () => {
    if (hooks === 0) throw new Error('not yet');
  });
  const stopped = proc.stop();
  release();
  await stopped;
  await sleep(500);
  t.equal(proc.pid, undefined, 'nothing was started after the hook');
  t.equal(proc.restarts, 0);
});

t.test('a beforeRestart that fails is reported, and the restart goes on', async (t) => {
  const beforeRestart = () => Promise.reject(new Error('no Sentinel answers'));
  const { proc, reports } = await supervise(t, SERVER, { beforeRestart });
  proc.start();
  await proc.waitUntilReady();
  const old = proc.pid;
  process.kill(old as number, 'SIGKILL');
  await newPid(proc, old);
  await proc.waitUntilReady();
  t.equal(proc.restarts, 1);
  t.ok(
    reports.some((r) => r.kind === 'restart' && /beforeRestart failed \(Error: no Sentinel answers\)/.test(r.message)),
  );
});

t.test('kill() and pause() are deliberate: no crash, no restart', async (t) => {
  const { proc, reports } = await supervise(t, SERVER);
  proc.start();
  await proc.waitUntilReady();
  const pid = proc.pid;
  proc.pause();
  await sleep(300);
  proc.resume();
  t.equal(proc.pid, pid, 'the same process after a pause');
  await proc.kill('SIGKILL');
  await sleep(FAST.maxDelayMs * 2);
  t.notOk(proc.running, 'a kill() is not undone');
  t.equal(proc.restarts, 0);
  t.same(reports, []);
  proc.start();
  await proc.waitUntilReady();
  t.pass('start() brings it back by hand');
});

t.test(
  "a detached process's leftovers (a worker holding its socket) are killed: before a restart, and on stop",
  async (t) => {
    const { proc, answer } = await supervise(t, MASTER_AND_WORKER, { detached: true });
    proc.start();
    await proc.waitUntilReady();
    const worker = await answer();
    t.not(worker, proc.pid, 'a worker serves');
    const master = proc.pid;
    process.kill(master as number, 'SIGKILL');
    await newPid(proc, master);
    await proc.waitUntilReady();
    const next = await answer();
    t.not(next, worker, "a new worker serves: the old one's socket was freed");
    t.notOk(isAlive(worker), 'the old worker is gone');
    t.equal(proc.restarts, 1);
    await proc.stop(); // its master exits on SIGTERM, leaving its worker: the supervisor kills it
    await waitFor('the new worker to go', 5000, async () => {
      if (isAlive(next)) throw new Error('still there');
    });
    t.pass('nothing is left after stop()');
  },
);

t.test('the endpoint counts the restarts (GET /metrics) and lists each process (GET /status)', async (t) => {
  const web = await supervise(t, SERVER);
  const broken = await supervise(t, 'process.exit(1)', {
    name: 'broken',
    restart: { initialDelayMs: 50, maxDelayMs: 50, maxRestarts: 1, windowMs: 60_000 },
  });
  const [port] = (await freePorts(1)) as [number];
  const endpoint = await serveSupervisor('127.0.0.1', port, () => [web.proc, broken.proc]);
  t.teardown(() => endpoint.close());
  const get = async (what: string) => (await fetch(`${endpoint.url}${what}`)).text();

  web.proc.start();
  await web.proc.waitUntilReady();
  t.match(await get('/metrics'), /^evergreen_supervisor_restarts_total\{process="web"\} 0$/m, 'at 0 from the start');
  const old = web.proc.pid;
  process.kill(old as number, 'SIGKILL');
  await newPid(web.proc, old);
  broken.proc.start();
  await t.rejects(broken.proc.waitUntilReady(10_000), /GAVE UP/);

  const metrics = await get('/metrics');
  t.match(metrics, /^# TYPE evergreen_supervisor_restarts_total counter$/m);
  t.match(metrics, /^evergreen_supervisor_restarts_total\{process="web"\} 1$/m);
  t.match(metrics, /^evergreen_supervisor_restarts_total\{process="broken"\} 1$/m);
  t.match(metrics, /^evergreen_supervisor_up\{process="web"\} 1$/m);
  t.match(metrics, /^evergreen_supervisor_up\{process="broken"\} 0$/m);
  t.match(metrics, /^evergreen_supervisor_gave_up\{process="web"\} 0$/m);
  t.match(metrics, /^evergreen_supervisor_gave_up\{process="broken"\} 1$/m);

  const status = JSON.parse(await get('/status'));
  t.match(status, [
    { name: 'web', pid: web.proc.pid, restarts: 1, gaveUp: null, lastCrashAt: String },
    { name: 'broken', pid: null, restarts: 1, gaveUp: /^GAVE UP on broken after 2 crashes/, lastCrashAt: String },
  ]);
  t.equal((await fetch(`${endpoint.url}/nothing`)).status, 404);
});
