import type { DeploymentView } from '../deployment/deployment.js';

/** An API instance's failover fence going up (fenced: true) or down, as its /metrics showed it. */
export interface FenceChange {
  at: number;
  /** The instance's name in reports (api-3001 locally, api-1 in Compose). */
  api: string;
  fenced: boolean;
}

/** How the polling went: a drill page without fence lines says whether the fence was ever seen. */
export interface FencePolling {
  intervalMs: number;
  /** Answers with the gauge in them. */
  samples: number;
  /** Polls that got no gauge: the instance down, restarting, or slow. */
  failures: number;
}

const INTERVAL_MS = 250;
// restart-stack and the host faults may move the instances: their URLs are asked for again this often.
const REFRESH_EVERY = 20;
const GAUGE = /^evergreen_failover_fence(?:\{[^}]*\})? (\S+)$/m;

/**
 * Polls every API instance's evergreen_failover_fence every 250 ms while the drill runs, and keeps the
 * transitions: the fence is the instances' own word on when they refuse writes, which the Sentinels' events
 * alone do not show. A poll that fails is counted and skipped; the state stays as last seen.
 */
export class FenceRecorder {
  readonly changes: FenceChange[] = [];
  private readonly state = new Map<string, boolean>();
  private readonly polling: FencePolling = { intervalMs: INTERVAL_MS, samples: 0, failures: 0 };
  private apis: { name: string; url: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> = Promise.resolve();
  private ticks = 0;

  constructor(private readonly deployment: Pick<DeploymentView, 'apis'>) {}

  start(): void {
    this.timer = setInterval(() => {
      // One poll at a time: a slow instance delays the next round rather than piling requests up.
      this.tick = this.tick.then(() => this.poll());
    }, INTERVAL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.tick;
  }

  get stats(): FencePolling {
    return { ...this.polling };
  }

  between(from: number, to: number): FenceChange[] {
    return this.changes.filter((c) => c.at >= from && c.at < to);
  }

  private async poll(): Promise<void> {
    if (this.ticks++ % REFRESH_EVERY === 0) {
      this.apis = await this.deployment.apis().catch(() => this.apis);
    }
    await Promise.all(this.apis.map((api) => this.sample(api)));
  }

  private async sample(api: { name: string; url: string }): Promise<void> {
    const at = Date.now();
    const value = await fetch(`${api.url}/metrics`, { signal: AbortSignal.timeout(INTERVAL_MS * 4) })
      .then((r) => (r.ok ? r.text() : ''))
      .then((text) => GAUGE.exec(text)?.[1])
      .catch(() => undefined);
    if (value === undefined) {
      this.polling.failures++;
      return;
    }
    this.polling.samples++;
    const fenced = Number(value) > 0;
    // An instance first seen fenced counts as a change; first seen open is the normal state, not one.
    if ((this.state.get(api.name) ?? false) !== fenced) this.changes.push({ at, api: api.name, fenced });
    this.state.set(api.name, fenced);
  }
}
