import type { SupervisedState } from '../supervisor/metrics.js';
import { downRow, get, type Row } from './status-row.js';

/** What the launcher's endpoint (SUPERVISOR_PORT, GET /status) says, or why it said nothing. */
export type SupervisorAnswer = { address: string } & (
  { states: SupervisedState[]; error?: undefined } | { states?: undefined; error: unknown }
);

export async function askSupervisor(host: string, port: number): Promise<SupervisorAnswer> {
  const address = `${host}:${port}`;
  try {
    const { status, body } = await get(`http://${address}/status`);
    if (status !== 200) return { address, error: new Error(`HTTP ${status}`) };
    return { address, states: JSON.parse(body) as SupervisedState[] };
  } catch (error) {
    return { address, error };
  }
}

/** The supervisor's own row: how many restarts in all, and which processes it gave up on (their rows fail). */
export function supervisorRow(answer: SupervisorAnswer, launcherPid: number): Row {
  const { address } = answer;
  if (!answer.states) {
    const row = downRow('supervisor', 'Supervisor', address, answer.error);
    return { ...row, detail: `the launcher (pid ${launcherPid}) does not answer: ${row.detail}` };
  }
  const restarts = answer.states.reduce((sum, s) => sum + s.restarts, 0);
  const gaveUp = answer.states.filter((s) => s.gaveUp !== null).map((s) => s.name);
  const detail =
    `${restarts} restart${restarts === 1 ? '' : 's'} after crashes, ` +
    `${gaveUp.length === 0 ? 'none given up' : `GAVE UP on ${gaveUp.join(', ')}`}; http://${address}/metrics`;
  return { name: 'supervisor', what: 'Supervisor', address, state: 'up', detail, ok: true };
}

/**
 * A process row's closing note: its pid (the supervisor's, live across restarts, else the record's) and, when the
 * supervisor answered, its restarts and last crash, or that it was given up on (which makes the row unhealthy).
 */
export function processNote(
  row: Row,
  recordPid: number | undefined,
  state: SupervisedState | undefined,
  isAlive: (pid: number) => boolean,
): Row {
  const pid = state ? (state.pid ?? undefined) : recordPid;
  const notes = pid === undefined ? [] : [`pid ${pid}${isAlive(pid) ? '' : ', not running'}`];
  if (state) {
    const lastCrash = state.lastCrashAt ? `, last crash ${new Date(state.lastCrashAt).toLocaleTimeString()}` : '';
    notes.push(`restarts ${state.restarts}${lastCrash}`);
    if (state.gaveUp) notes.push(state.gaveUp);
  }
  const detail = notes.length === 0 ? row.detail : `${row.detail}  (${notes.join('; ')})`;
  return { ...row, detail, ok: row.ok && !state?.gaveUp };
}
