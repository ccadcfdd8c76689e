import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentView, Member } from '../deployment/deployment.js';
import { counterSamples, instanceMetrics } from '../bench/target.js';
import type { ReplicaRouting } from './fault-run.js';

const ALERT_POLL_MS = 1000;
const METRICS_POLL_MS = 250;

/** Polls until stop(); what it returns is what it saw. Polling errors are skipped: the next poll asks again. */
abstract class Poller<T> {
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly everyMs: number) {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.poll().catch(() => undefined);
        await sleep(this.everyMs);
      }
    })();
  }

  async stop(): Promise<T> {
    this.stopped = true;
    await this.loop;
    return this.result();
  }

  protected abstract poll(): Promise<void>;
  protected abstract result(): T;
}

/** Each alert the deployment's Prometheus shows firing, with when it was first seen (ms after `from`). */
export class AlertWatch extends Poller<Record<string, number>> {
  private readonly firing: Record<string, number> = {};

  constructor(
    private readonly prometheusUrl: string,
    private readonly from: number,
  ) {
    super(ALERT_POLL_MS);
  }

  protected async poll(): Promise<void> {
    const response = await fetch(`${this.prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { data?: { alerts?: { labels: { alertname: string }; state: string }[] } };
    for (const alert of body.data?.alerts ?? []) {
      if (alert.state === 'firing') this.firing[alert.labels.alertname] ??= Date.now() - this.from;
    }
  }

  protected result(): Record<string, number> {
    return { ...this.firing };
  }
}

/**
 * What the API instances say of one replica, from their /metrics: the lag they estimate
 * (evergreen_replica_lag_seconds), whether they call it lagging (evergreen_replica_lagging), and the catalog reads
 * each replica served (evergreen_catalog_replica_reads_total). The gauges exist only while a reader is connected to
 * the replica (a stopped one's reader moves away after a while): the counters are what prove where reads went.
 */
export class ReplicaRoutingWatch extends Poller<ReplicaRouting> {
  private label: string | undefined;
  private first: { it: number; all: number } | undefined;
  private last: { it: number; all: number } | undefined;
  /** Per instance (by its place in apis()): when it first called the replica lagging. */
  private readonly laggingSince = new Map<number, number>();
  private instances = 0;
  private maxLagMs = 0;
  private throttleEnd: number | undefined;
  private readmittedAt: number | undefined;

  constructor(
    private readonly deployment: DeploymentView,
    private readonly replica: Member,
    private readonly from: number,
  ) {
    super(METRICS_POLL_MS);
  }

  /** The throttle is over: from now on, count no more reads, and time the way back into rotation. */
  throttleEnded(): void {
    this.throttleEnd = Date.now();
  }

  protected async poll(): Promise<void> {
    const texts = await instanceMetrics(this.deployment);
    this.instances = texts.length;
    this.label ??= await this.labelIn(texts);
    const label = this.label;
    if (label === undefined) return;
    const of = (text: string, name: string) => counterSamples(text, name).find((s) => s.labels.replica === label);
    const reads = texts.flatMap((text) => counterSamples(text, 'evergreen_catalog_replica_reads_total'));
    const now = { it: sum(reads.filter((s) => s.labels.replica === label)), all: sum(reads) };
    const lagging = texts.map((text) => of(text, 'evergreen_replica_lagging')?.value);
    if (this.throttleEnd === undefined) {
      this.first ??= now;
      this.last = now;
      for (const text of texts)
        this.maxLagMs = Math.max(this.maxLagMs, (of(text, 'evergreen_replica_lag_seconds')?.value ?? 0) * 1000);
      lagging.forEach((value, i) => {
        if (value === 1 && !this.laggingSince.has(i)) this.laggingSince.set(i, Date.now());
      });
    } else if (this.readmittedAt === undefined && lagging.every((value) => value === 0)) {
      this.readmittedAt = Date.now();
    }
  }

  /**
   * The replica's label: the address an instance's socket reaches it on (127.0.0.1:<port> locally, a container's
   * address in Compose), named back to a node as the deployment names what a Sentinel announces; undefined while
   * no instance labels it.
   */
  private async labelIn(texts: string[]): Promise<string | undefined> {
    const labels = new Set(
      texts.flatMap((text) =>
        ['evergreen_replica_lagging', 'evergreen_catalog_replica_reads_total'].flatMap((name) =>
          counterSamples(text, name).map((s) => s.labels.replica ?? ''),
        ),
      ),
    );
    for (const label of labels) {
      const at = label.lastIndexOf(':');
      const node = await this.deployment.nodeAt(label.slice(0, at), Number(label.slice(at + 1)));
      if (node?.name === this.replica.name) return label;
    }
    return undefined;
  }

  protected result(): ReplicaRouting {
    const { first, last } = this;
    const all = this.instances > 0 && this.laggingSince.size === this.instances;
    return {
      label: this.label ?? `${this.replica.host}:${this.replica.port} (no instance labels it)`,
      ...(all ? { excludedMs: Math.max(...this.laggingSince.values()) - this.from } : {}),
      maxLagMs: Math.round(this.maxLagMs),
      servedByIt: first && last ? last.it - first.it : 0,
      servedByReplicas: first && last ? last.all - first.all : 0,
      ...(this.readmittedAt !== undefined && this.throttleEnd !== undefined
        ? { readmittedMs: this.readmittedAt - this.throttleEnd }
        : {}),
    };
  }
}

const sum = (samples: { value: number }[]) => samples.reduce((s, c) => s + c.value, 0);
