import { LocalStack, type StackOptions } from '../../stack/stack.js';

/**
 * The stack a drill runs on. restart-stack stops it and starts a new LocalStack from the same config (so the
 * same ports, credentials and data): whoever stops the drill's stack afterwards must stop `current`.
 */
export class DrillStack {
  private readonly all: LocalStack[];

  /** Without options (the nginx program, the log), it cannot start another: restart-stack is then refused. */
  constructor(
    public current: LocalStack,
    private readonly options?: StackOptions,
  ) {
    this.all = [current];
  }

  get canRestart(): boolean {
    return this.options !== undefined;
  }

  /** Stops the current stack, then starts a new one from its config; rejects when that one cannot start. */
  async restart(stopped: (ms: number) => void): Promise<LocalStack> {
    if (!this.options) throw new Error('restart-stack needs the options the stack was started with (a DrillStack)');
    const stopping = Date.now();
    await this.current.stop();
    stopped(Date.now() - stopping);
    const next = new LocalStack(this.current.config, this.options);
    this.current = next;
    this.all.push(next);
    await next.start();
    return next;
  }

  /** Stops every stack it started (stop() is idempotent): one may still be starting when a drill is cut short. */
  async stop(): Promise<void> {
    await Promise.all(this.all.map((stack) => stack.stop()));
  }
}
