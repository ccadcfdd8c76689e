import type { ChainableCommander, Redis } from 'ioredis';

/** What one MULTI … EXEC + WAIT write answered. */
export interface ExecAndWait {
  /** EXEC's replies, or null when a WATCHed key changed and nothing was written. */
  replies: unknown[] | null;
  /** How many replicas WAIT counted (0 when no WAIT was asked). */
  acked: number;
}

/**
 * MULTI, the commands `queue` adds, EXEC and then WAIT, as ONE pipeline: one write on the connection, so Redis
 * runs WAIT right after the EXEC and counts the replicas that have it. (Two separate calls would rely on the
 * client writing them in call order.) Throws when any command was refused or failed inside the transaction:
 * never acknowledge a transaction that did not fully apply.
 */
export async function execAndWait(
  redis: Redis,
  queue: (tx: ChainableCommander) => void,
  wait: { replicas: number; timeoutMs: number },
): Promise<ExecAndWait> {
  const batch = redis.pipeline().call('MULTI');
  queue(batch);
  batch.call('EXEC');
  if (wait.replicas > 0) batch.wait(wait.replicas, wait.timeoutMs);
  const results = ((await batch.exec()) ?? []) as [Error | null, unknown][];
  const refused = results.find(([err]) => err);
  if (refused) throw refused[0];
  const execIndex = results.length - (wait.replicas > 0 ? 2 : 1);
  const replies = results[execIndex]![1] as unknown[] | null;
  const failed = replies?.find((reply) => reply instanceof Error);
  if (failed) throw failed;
  return { replies, acked: wait.replicas > 0 ? (results.at(-1)![1] as number) : 0 };
}
