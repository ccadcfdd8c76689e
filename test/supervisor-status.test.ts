import t from 'tap';
import { askSupervisor, processNote, supervisorRow } from '../stack/commands/status-supervisor.js';
import type { Row } from '../stack/commands/status-row.js';
import type { SupervisedState } from '../stack/supervisor/metrics.js';
import { freePorts } from './helpers/fixtures.js';

/** How `npm run status` shows what the launcher's supervisor says, and says so when the launcher does not answer. */

const row: Row = { name: 'redis-6380', what: 'Redis', address: '127.0.0.1:6380', state: 'down', detail: 'x', ok: true };
const state = (more: Partial<SupervisedState>): SupervisedState => ({
  name: 'redis-6380',
  pid: process.pid,
  restarts: 0,
  gaveUp: null,
  lastCrashAt: null,
  ...more,
});
const alive = () => true;

t.test('a launcher that does not answer on SUPERVISOR_PORT is a failed row that says so', async (t) => {
  const [port] = (await freePorts(1)) as [number];
  const answer = await askSupervisor('127.0.0.1', port);
  t.equal(answer.states, undefined);
  const supervisor = supervisorRow(answer, 4242);
  t.match(supervisor, { what: 'Supervisor', state: 'down', ok: false });
  t.match(supervisor.detail, /^the launcher \(pid 4242\) does not answer: .*ECONNREFUSED/);
});

t.test("each process's row gets its live pid and restarts; one given up on fails", async (t) => {
  t.equal(processNote(row, 11, undefined, () => false).detail, 'x  (pid 11, not running)', 'the record alone');
  t.equal(processNote(row, 11, state({ pid: 12 }), alive).detail, 'x  (pid 12; restarts 0)', "the supervisor's pid");
  const restarted = processNote(row, 11, state({ restarts: 2, lastCrashAt: new Date().toISOString() }), alive);
  t.match(restarted, { ok: true, detail: /; restarts 2, last crash \d/ });
  const gaveUp = processNote(
    row,
    11,
    state({ pid: null, restarts: 5, gaveUp: 'GAVE UP on redis-6380 after 6' }),
    alive,
  );
  t.match(gaveUp, { ok: false, detail: 'x  (restarts 5; GAVE UP on redis-6380 after 6)' });
});

t.test("the supervisor's row sums the restarts and names what it gave up on", async (t) => {
  const states = [state({ restarts: 2 }), state({ name: 'nginx', restarts: 1, gaveUp: 'GAVE UP on nginx' })];
  const supervisor = supervisorRow({ address: '127.0.0.1:9398', states }, 1);
  t.match(supervisor, { state: 'up', ok: true });
  t.equal(supervisor.detail, '3 restarts after crashes, GAVE UP on nginx; http://127.0.0.1:9398/metrics');
});
