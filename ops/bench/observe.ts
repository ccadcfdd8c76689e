import type { DeploymentView } from '../deployment/deployment.js';
import { cacheBetween, cacheCounts, hitRatio, type CacheOutcome } from './cache-stats.js';
import { RedisCommandStats, perRequestFigure, topCommands, type RedisPerRequest } from './commandstats.js';
import { instanceMetrics } from './target.js';

/** What a scenario's window cost beyond its answers: Redis commands per request, the client cache's hits. */
export interface Observed {
  redis: RedisPerRequest;
  cache: CacheOutcome;
}

/**
 * Snapshots right before and right after a scenario's load: INFO commandstats on every Redis node (admin
 * connections held for the run) and the API instances' /metrics. Nothing of the snapshots goes through NGINX, and
 * the commands they cost (INFO, and the CLIENT and HELLO of connecting) count as background, not per request.
 */
export class Observer {
  private constructor(
    private readonly deployment: DeploymentView,
    private readonly redis: RedisCommandStats,
  ) {}

  static async connect(deployment: DeploymentView): Promise<Observer> {
    return new Observer(deployment, await RedisCommandStats.connect(deployment));
  }

  /** Runs the load between two snapshots; the figures are per request of what `requestsOf` counts. */
  async around<T>(run: () => Promise<T>, requestsOf: (value: T) => number): Promise<{ value: T } & Observed> {
    const [redisBefore, cacheBefore] = await Promise.all([this.redis.snapshot(), this.cacheCounts()]);
    const value = await run();
    const [redisAfter, cacheAfter] = await Promise.all([this.redis.snapshot(), this.cacheCounts()]);
    return {
      value,
      redis: await this.redis.between(redisBefore, redisAfter, requestsOf(value)),
      cache: cacheBetween(cacheBefore, cacheAfter),
    };
  }

  private async cacheCounts() {
    return cacheCounts(await instanceMetrics(this.deployment));
  }

  close(): void {
    this.redis.close();
  }
}

/** The table's cells: Redis commands per request on the master + the replicas, the top ones, the cache's hits. */
export function observedCells(observed: Partial<Observed>): string[] {
  const { redis, cache } = observed;
  if (!redis) return ['-', '-', '-'];
  return [masterPlusReplicas(redis), topCommands(redis), hitRatio(cache)];
}

const masterPlusReplicas = (redis: RedisPerRequest) =>
  `${perRequestFigure(redis.master.perRequest)} + ${perRequestFigure(redis.replicas.perRequest)}`;

/** The log line's part: `3.02 + 0.00 Redis commands/request (master + replicas), cache hits 97.3%`. */
export const observedLog = ({ redis, cache }: Observed) =>
  `${masterPlusReplicas(redis)} Redis commands/request (master + replicas), cache hits ${hitRatio(cache)}`;

/** Under the table: background commands per second (not per request), each scenario's and the most frequent. */
export function renderBackground(rows: { name: string; redis?: RedisPerRequest }[]): string[] {
  const seen = rows.flatMap(({ name, redis }) => (redis ? [{ name, redis }] : []));
  if (seen.length === 0) return [];
  const seconds = seen.reduce((s, r) => s + r.redis.seconds, 0);
  const calls: Record<string, number> = {};
  for (const { redis } of seen) {
    for (const [command, n] of Object.entries(redis.background.commands)) {
      calls[command] = (calls[command] ?? 0) + n * redis.seconds;
    }
  }
  const top = Object.entries(calls)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 6)
    .map(([command, n]) => `${command} ${(n / seconds).toFixed(1)}`);
  return [
    'Background Redis commands per second on all nodes, not counted per request: ' +
      `${seen.map(({ name, redis }) => `${name} ${Math.round(redis.background.perSecond)}`).join(', ')}; ` +
      `on average ${top.join(', ') || 'none'}`,
  ];
}
