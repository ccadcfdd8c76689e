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
 * it served (evergreen_catalog_reads_total by its replica label).
 */
export class ReplicaRoutingWatch extends Poller<ReplicaRouting> {
  private label: string | undefined;
  private first: { it: number; all: number } | undefined;
  private last: { it: number; all: number } | undefined;
  private excludedAt: number | undefined;
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
    const labels = texts.flatMap((text) =>
      counterSamples(text, 'evergreen_replica_lagging').map((s) => s.labels.replica ?? ''),
    );
    // Locally host:port as this host reaches it; in Compose the name the Sentinels announce (redis-2:6379).
    const { host, port, name } = this.replica;
    this.label ??=
      labels.find((l) => l === `${host}:${port}` || l.startsWith(`${name}:`)) ??
      labels.find((l) => l.endsWith(`:${port}`));
    const label = this.label;
    if (label === undefined) return;
    const per = texts.map((text) => ({
      lagging: counterSamples(text, 'evergreen_replica_lagging').find((s) => s.labels.replica === label)?.value,
      lag: counterSamples(text, 'evergreen_replica_lag_seconds').find((s) => s.labels.replica === label)?.value,
      reads: counterSamples(text, 'evergreen_catalog_reads_total').filter((s) => s.labels.source === 'replica'),
    }));
    const reads = per.flatMap((p) => p.reads);
    const now = { it: sum(reads.filter((s) => s.labels.replica === label)), all: sum(reads) };
    if (this.throttleEnd === undefined) {
      this.first ??= now;
      this.last = now;
      for (const p of per) this.maxLagMs = Math.max(this.maxLagMs, (p.lag ?? 0) * 1000);
      if (this.excludedAt === undefined && per.every((p) => p.lagging === 1)) this.excludedAt = Date.now();
    } else if (this.readmittedAt === undefined && per.every((p) => p.lagging === 0)) {
      this.readmittedAt = Date.now();
    }
  }

  protected result(): ReplicaRouting {
    const { first, last } = this;
    return {
      label: this.label ?? `${this.replica.host}:${this.replica.port} (no instance labels it)`,
      ...(this.excludedAt !== undefined ? { excludedMs: this.excludedAt - this.from } : {}),
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
