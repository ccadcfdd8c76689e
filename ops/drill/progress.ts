import type { LoadCounts } from './load.js';

const EVERY_MS = 1000;

/** One line a second while the drill runs: which cycle, what it does, how the load fares. */
export class Progress {
  private cycle = 0;
  private phase = 'starting';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cycles: number,
    private readonly counts: () => LoadCounts,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.print(), EVERY_MS);
  }

  /** Cycle 0: before the first one. */
  at(cycle: number, phase: string): void {
    this.cycle = cycle;
    this.step(phase);
  }

  step(phase: string): void {
    this.phase = phase;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private print(): void {
    const c = this.counts();
    const where = this.cycle === 0 ? 'warm-up' : `cycle ${this.cycle}/${this.cycles}`;
    const purchases = `${c.ok} ok, ${c.failed} failed, ${c.retrying} retrying, ${c.unknown} unknown`;
    const x = c.cancellations;
    const cancels = `${x.ok} ok, ${x.failed} failed, ${x.retrying} retrying, ${x.unknown} unknown`;
    const reads = `reads ${c.reads}, ${c.failedReads} failed`;
    this.log(
      `${where} · ${this.phase} | purchases ${purchases} (${c.baskets} baskets) | cancels ${cancels} | ${reads}`,
    );
  }
}
