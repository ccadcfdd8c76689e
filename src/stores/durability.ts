import type { FailoverWatch, Lease } from '../redis/failover-watch.js';
import type { BusinessMetrics } from '../metrics.js';
import { NotDurable } from '../errors.js';

/**
 * When a write may be acknowledged (a purchase, a cancellation): only once WAIT saw `waitReplicas` replicas take
 * it, and only if the Sentinels raised no doubt about the master since `lease` was taken (else that replica may be
 * repointed and the write discarded). Otherwise 503 NOT_DURABLE: the client retries with its key.
 */
export class Durability {
  constructor(
    private readonly watch: FailoverWatch,
    private readonly settings: { waitReplicas: number; waitTimeoutMs: number },
    private readonly metrics: BusinessMetrics,
  ) {}

  /** What execAndWait asks WAIT for. */
  get wait(): { replicas: number; timeoutMs: number } {
    return { replicas: this.settings.waitReplicas, timeoutMs: this.settings.waitTimeoutMs };
  }

  /** A lease on the current master, or undefined while a failover is in doubt. */
  lease(): Lease | undefined {
    return this.watch.lease();
  }

  /** Throws NOT_DURABLE unless the write is acknowledged by enough replicas under an unbroken lease. */
  judge(acked: number, lease: Lease): void {
    const { waitReplicas } = this.settings;
    if (acked < waitReplicas) {
      this.metrics.waits.inc({ result: 'timeout' });
      throw new NotDurable();
    }
    if (!this.watch.holds(lease)) {
      this.metrics.waits.inc({ result: 'fenced' });
      throw new NotDurable();
    }
    if (waitReplicas > 0) this.metrics.waits.inc({ result: 'acked' });
  }
}
