import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { adminAuth } from '../../stack/helpers/redis-users.js';
import type { LocalStack } from '../../stack/stack.js';

/**
 * The one place the fuzz tests sign in to Redis (adapt it here when the ACL users change): the operators' `admin`
 * user, on the node the Sentinels name master. A refusal is reported, not worked around.
 */
export async function connectToMaster(stack: LocalStack): Promise<Redis> {
  const { config, credentials } = stack;
  const redis = new Redis({
    sentinels: config.sentinelPorts.map((port) => ({ host: config.host, port })),
    name: config.masterName,
    sentinelPassword: credentials.redis.sentinels,
    ...adminAuth(credentials.redis),
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot sign in to the master as the admin user (test/helpers/fuzz-redis.ts): ${String(err)}`);
  }
  return redis;
}

const BARRIER = 'evergreen-fuzz-barrier';
const KEYSPACE = '__keyspace@0__:';

/**
 * A copy of the service's data in Redis (every key under its prefix but the rate-limit counters, which change on
 * every request), kept current from keyspace notifications: after each request, `changes()` re-reads exactly the
 * keys written meanwhile and says which now differ from the copy. A key written and put back (a purchase that
 * claims its Idempotency-Key and frees it on refusal) is no change.
 */
export class DataWatch {
  private readonly copy = new Map<string, string>();
  private readonly touched = new Set<string>();
  private barrier: { token: string; arrived: () => void } | undefined;

  private constructor(
    private readonly redis: Redis,
    private readonly events: Redis,
    private readonly prefix: string,
  ) {}

  static async start(stack: LocalStack, prefix: string): Promise<DataWatch> {
    const redis = await connectToMaster(stack);
    // K: keyspace channels; A: every kind of write (generic, string, list, set, hash, zset, expiry, stream).
    await redis.config('SET', 'notify-keyspace-events', 'KA');
    const events = redis.duplicate();
    await events.connect();
    const watch = new DataWatch(redis, events, prefix);
    events.on('pmessage', (_pattern: string, channel: string) => {
      const key = channel.slice(KEYSPACE.length);
      if (watch.isData(key)) watch.touched.add(key);
    });
    events.on('message', (channel: string, token: string) => {
      if (channel === BARRIER && token === watch.barrier?.token) watch.barrier.arrived();
    });
    await events.psubscribe(`${KEYSPACE}${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
    await events.subscribe(BARRIER);
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, count: 1000 })) {
      keys.push(...(batch as string[]).filter((key) => watch.isData(key)));
    }
    for (const [key, value] of await watch.read(keys)) if (value !== undefined) watch.copy.set(key, value);
    return watch;
  }

  /** How many data keys the copy holds. */
  get size(): number {
    return this.copy.size;
  }

  /**
   * Waits until Redis has told of every write made so far (a message published after them arrives after their
   * notifications), then returns each data key whose content differs from the copy, as "key: before → after",
   * and brings the copy up to date.
   */
  async changes(): Promise<string[]> {
    const token = randomUUID();
    const arrived = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no keyspace notifications from Redis within 5 s')), 5000);
      this.barrier = {
        token,
        arrived: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
    await this.redis.publish(BARRIER, token);
    await arrived;
    const keys = [...this.touched];
    this.touched.clear();
    const changed: string[] = [];
    for (const [key, now] of await this.read(keys)) {
      const before = this.copy.get(key);
      if (now === before) continue;
      changed.push(`${key}: ${before?.slice(0, 200) ?? '(none)'} → ${now?.slice(0, 200) ?? '(none)'}`);
      if (now === undefined) this.copy.delete(key);
      else this.copy.set(key, now);
    }
    return changed;
  }

  async close(): Promise<void> {
    this.events.disconnect();
    await this.redis.quit();
  }

  private isData(key: string): boolean {
    return key.startsWith(this.prefix) && !key.startsWith(`${this.prefix}rl:`);
  }

  /**
   * Each key's type, content and whether it expires, as one comparable string; undefined when it is gone. A key
   * written between its TYPE and its read (the service's own writers do not wait for the barrier: the catalog's
   * start-up backfill, a purchase's Idempotency-Key claim) is read again.
   */
  private async read(keys: string[], attempt = 0): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>();
    const again: string[] = [];
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const types = (await this.redis.pipeline(chunk.map((key) => ['type', key])).exec()) ?? [];
      const reads = chunk.map((key, j) => {
        const type = String(types[j]?.[1]);
        const command: Record<string, string[]> = {
          string: ['get', key],
          hash: ['hgetall', key],
          zset: ['zrange', key, '0', '-1', 'WITHSCORES'],
          set: ['smembers', key],
          list: ['lrange', key, '0', '-1'],
        };
        return command[type] ?? ['type', key];
      });
      const values = (await this.redis.pipeline(reads).exec()) ?? [];
      const ttls = (await this.redis.pipeline(chunk.map((key) => ['pttl', key])).exec()) ?? [];
      chunk.forEach((key, j) => {
        const type = String(types[j]?.[1]);
        if (type === 'none') return out.set(key, undefined);
        const [err, read] = values[j] ?? [new Error('no reply'), undefined];
        if (err || (type !== 'string' && (read === null || read === undefined))) {
          if (attempt < 5) return again.push(key);
          throw new Error(`cannot read ${key} (${type}): ${String(err ?? read)}`);
        }
        let value = read;
        if (type === 'hash') value = Object.entries(value as Record<string, string>).sort();
        if (type === 'set') value = [...(value as string[])].sort();
        out.set(key, JSON.stringify({ type, value, expires: Number(ttls[j]?.[1]) > 0 }));
      });
    }
    if (again.length > 0) for (const [key, value] of await this.read(again, attempt + 1)) out.set(key, value);
    return out;
  }
}
