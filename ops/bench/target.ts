import type { Credentials } from '../../stack/helpers/credentials.js';
import { adminAuth, type RedisAuth } from '../../stack/helpers/redis-users.js';
import type { LocalStack } from '../../stack/stack.js';

/** Where a Redis node answers from this host, and as which user (the operators' admin). */
export interface RedisAddress extends RedisAuth {
  host: string;
  port: number;
}

/**
 * What a benchmark runs against, whichever way the system runs: NGINX's public URL, one instance without NGINX,
 * the admin who seeds the catalog, and the master (for the Redis ceiling and for bulk loading).
 */
export interface BenchTarget {
  kind: 'local' | 'compose';
  publicUrl: string;
  /** One API instance directly (what NGINX costs). */
  directUrl: string;
  admin: Credentials['admin'];
  /** Every API instance's own URL, for its /metrics (empty when they cannot be reached from this host). */
  instanceUrls: string[];
  /** The service's key prefix, so that keys written here are the ones it reads. */
  keyPrefix: string;
  /** The master the Sentinels name now, reachable from this host. */
  master(): Promise<RedisAddress>;
}

export function localTarget(stack: LocalStack): BenchTarget {
  return {
    kind: 'local',
    publicUrl: stack.publicUrl,
    directUrl: stack.apiUrl(0),
    instanceUrls: stack.config.apiPorts.map((_, i) => stack.apiUrl(i)),
    admin: stack.credentials.admin,
    keyPrefix: stack.config.keyPrefix,
    master: async () => {
      const address = await stack.topology?.masterAddress();
      if (!address) throw new Error('no Redis master');
      return { host: address.host, port: address.port, ...adminAuth(stack.credentials.redis) };
    },
  };
}

/** The sum of one counter over every instance's /metrics (undefined when no instance can be read). */
export async function sumCounter(target: BenchTarget, name: string): Promise<number | undefined> {
  if (target.instanceUrls.length === 0) return undefined;
  const texts = await Promise.all(target.instanceUrls.map((url) => fetch(`${url}/metrics`).then((r) => r.text())));
  const line = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm');
  return texts.reduce((sum, text) => sum + [...text.matchAll(line)].reduce((s, m) => s + Number(m[1]), 0), 0);
}
