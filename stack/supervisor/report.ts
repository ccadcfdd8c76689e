/**
 * What a Supervised tells its onCrash callback: a crash (with the restart it scheduled, if any), what became of a
 * restart, or that it gave up. The message is a whole report, so a callback that only logs it says enough.
 */
export type SupervisorReportKind = 'crash' | 'restart' | 'gave-up';

export class SupervisorReport extends Error {
  override name = 'SupervisorReport';

  constructor(
    readonly kind: SupervisorReportKind,
    /** The process's name (redis-6379, nginx, …). */
    readonly process: string,
    message: string,
    /** For a crash: when the restart comes; undefined when none will. */
    readonly restartInMs?: number,
  ) {
    super(message);
  }
}
