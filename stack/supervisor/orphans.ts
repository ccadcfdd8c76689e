import type { ChildProcess } from 'node:child_process';
import os from 'node:os';

/**
 * Children must not outlive this process. 'exit' handlers run on a normal exit or process.exit();
 * a fatal signal skips them, so unless the program stops its children itself on a signal (the stack's
 * CLI, which stops them in order), the signal is passed on to them first (SIGALRM: tap's timeout).
 */
const liveChildren = new Set<ChildProcess>();
const FATAL_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGALRM'];
let programHandlesSignals = false;

export function guardAgainstOrphans(child: ChildProcess): void {
  if (child.pid === undefined) return;
  if (liveChildren.size === 0) addGuards();
  liveChildren.add(child);
  child.once('exit', () => {
    liveChildren.delete(child);
    if (liveChildren.size === 0) removeGuards();
  });
}

/** The signals a program stops on in order: Ctrl-C, a service manager's or a timeout's SIGTERM, a closed terminal. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The program stops itself, and its children in order, on every stop signal — every one, not the first only: npm
 * passes Ctrl-C on as a second SIGINT, which must not cut a teardown short. The guard then only kills survivors
 * at exit.
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  leaveSignalsToProgram();
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
}

/** The exit status of a program stopped by a signal, as a shell reports it (130 for SIGINT, 143 for SIGTERM). */
export const signalExitCode = (signal: NodeJS.Signals): number => 128 + (os.constants.signals[signal] ?? 0);

/** The program stops its children on a signal itself: from now on the guard only kills survivors at exit. */
function leaveSignalsToProgram(): void {
  programHandlesSignals = true;
  for (const signal of FATAL_SIGNALS) process.off(signal, passSignalToChildren);
}

function addGuards(): void {
  process.on('exit', killChildrenOnExit);
  if (programHandlesSignals) return;
  // First in line, so a handler such as signal-exit that re-raises the signal finds itself alone.
  for (const signal of FATAL_SIGNALS) process.prependListener(signal, passSignalToChildren);
}

function removeGuards(): void {
  process.off('exit', killChildrenOnExit);
  for (const signal of FATAL_SIGNALS) process.off(signal, passSignalToChildren);
}

function killChildrenOnExit(): void {
  for (const child of liveChildren) child.kill('SIGKILL');
}

function passSignalToChildren(signal: NodeJS.Signals): void {
  for (const child of liveChildren) {
    child.kill('SIGTERM');
    child.kill('SIGCONT');
  }
  removeGuards();
  // Die by the signal as Node would have, unless the program handles it itself.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/**
 * SIGKILL to what is left of a detached child's process group once the child (its leader) has exited: NGINX's
 * workers, a Redis fork. Nothing left is fine; anything else is returned as a problem to report.
 */
export function killGroupLeftovers(pid: number): string | undefined {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ESRCH') return `cannot SIGKILL what is left of its process group ${pid} (${code})`;
  }
  return undefined;
}
