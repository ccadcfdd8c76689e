import type { Redis } from 'ioredis';
import { ServiceUnavailable } from '../errors.js';
import type { FailoverWatch } from './failover-watch.js';

// Sentinel closes every client connection of a replica it promotes or repoints; ours are back in ~100 ms.
const REPLICA_WAIT_MS = 400;
const POLL_MS = 20;

/**
 * Where a catalog read goes: a ready replica (each client prefers another one; the next is tried when one
 * fails), else the first replica to come back within REPLICA_WAIT_MS (once per read), else the master, but only while the
 * Sentinels have no doubt about it: a read sent to a paused master would hang until its timeout.
 */
export class CatalogReads {
  private next = 0;

  constructor(
    private readonly replicas: Redis[],
    private readonly master: Redis,
    private readonly watch: FailoverWatch,
  ) {}

  async run<T>(query: (redis: Redis) => Promise<T>): Promise<T> {
    let lastError: unknown;
    // A replica whose connection dropped under the read (Sentinel repointing it) is worth one more try once
    // it is back; one that timed out on an open connection (paused) is not.
    const tries = new Map<Redis, number>();
    const usable = (r: Redis) => (tries.get(r) ?? 0) < 2;
    const waitUntil = Date.now() + REPLICA_WAIT_MS;
    for (;;) {
      const replica = this.readyReplicas().find(usable) ?? (await this.waitForReplica(usable, waitUntil));
      if (!replica) break;
      try {
        return await query(replica);
      } catch (err) {
        lastError = err;
        tries.set(replica, replica.status === 'ready' ? 2 : (tries.get(replica) ?? 0) + 1);
      }
    }
    if (this.masterAnswers()) return query(this.master);
    throw lastError ?? new ServiceUnavailable();
  }

  /** The master, when it can be asked right now without risking a hang; for confirming a replica's miss. */
  masterAnswers(): boolean {
    return this.master.status === 'ready' && !this.watch.fence.fenced && this.watch.isMaster(this.master);
  }

  /** Ready replica clients, starting at a rotating one so that reads spread over the replicas. */
  private readyReplicas(): Redis[] {
    const start = this.next++ % this.replicas.length;
    return [...this.replicas.slice(start), ...this.replicas.slice(0, start)].filter((r) => r.status === 'ready');
  }

  private async waitForReplica(usable: (r: Redis) => boolean, deadline: number): Promise<Redis | undefined> {
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const replica = this.readyReplicas().find(usable);
      if (replica) return replica;
    }
    return undefined;
  }
}
