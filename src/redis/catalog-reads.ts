import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceUnavailable } from '../errors.js';
import type { FailoverWatch } from './failover-watch.js';

// Around a switch, Sentinel closes the connections of the replica it promotes and of every replica it repoints,
// and the master client moves to the new master: for a few hundred milliseconds nobody may be ready to read from.
const READ_BUDGET_MS = 1500;
const POLL_MS = 20;

/** Whether a ready replica client may be read from now (replica-lag-probe.ts: its node does not lag). */
export type InRotation = (replica: Redis) => boolean;

/**
 * Where a catalog read goes: a ready replica in rotation (not lagging; each client prefers another one; the next
 * is tried when one fails), else the master while the Sentinels have no doubt about it (a read sent to a paused
 * master would hang until its timeout), else a ready replica out of rotation — with the master gone (killed,
 * paused) every replica's link is down and so "lagging", yet it holds every write there is: a read it answers
 * beats a 503 —, else whichever of them becomes ready first within READ_BUDGET_MS.
 */
export class CatalogReads {
  private next = 0;

  constructor(
    private readonly replicas: Redis[],
    private readonly master: Redis,
    private readonly watch: FailoverWatch,
    /** Told where each read was served (and by which replica client). */
    private readonly served: (source: 'replica' | 'master', replica?: Redis) => void = () => {},
    private readonly inRotation: InRotation = () => true,
  ) {}

  async run<T>(query: (redis: Redis) => Promise<T>): Promise<T> {
    const deadline = Date.now() + READ_BUDGET_MS;
    // A replica whose connection dropped under the read (Sentinel repointing it) is worth one more try once
    // it is back; one that timed out on an open connection (paused) is not.
    const tries = new Map<Redis, number>();
    let lastError: unknown;
    for (;;) {
      const untried = (r: Redis) => (tries.get(r) ?? 0) < 2;
      const inRotation = this.readyReplicas(true).find(untried);
      const master = inRotation ? undefined : this.masterAnswers();
      const replica = inRotation ?? (master ? undefined : this.readyReplicas(false).find(untried));
      if (replica) {
        try {
          const answer = await query(replica);
          this.served('replica', replica);
          return answer;
        } catch (err) {
          lastError = err;
          tries.set(replica, replica.status === 'ready' ? 2 : (tries.get(replica) ?? 0) + 1);
          continue;
        }
      }
      if (master) {
        this.served('master');
        return query(this.master);
      }
      if (Date.now() >= deadline) throw lastError ?? new ServiceUnavailable();
      await sleep(POLL_MS);
    }
  }

  /** The master, when it can be asked right now without risking a hang; for confirming a replica's miss. */
  masterAnswers(): boolean {
    return this.master.status === 'ready' && !this.watch.fence.fenced && this.watch.isMaster(this.master);
  }

  /** Ready replica clients (in rotation only, or all), starting at a rotating one to spread reads over them. */
  private readyReplicas(inRotationOnly: boolean): Redis[] {
    const start = this.next++ % this.replicas.length;
    return [...this.replicas.slice(start), ...this.replicas.slice(0, start)].filter(
      (r) => r.status === 'ready' && (!inRotationOnly || this.inRotation(r)),
    );
  }
}
