import type { RedisAuth } from '../../stack/helpers/redis-users.js';
import type { DeploymentView } from '../deployment/deployment.js';

/**
 * What a benchmark asks of the deployment it drives (`--target local|compose`) beyond the view's own answers:
 * one instance without NGINX, the master as the operators' admin, a counter over every instance.
 */

/** Where a Redis node answers from this host, and as which user (the operators' admin). */
export interface RedisAddress extends RedisAuth {
  host: string;
  port: number;
}

/** One API instance directly, the first (ceiling-direct: what NGINX costs). */
export async function directUrl(deployment: DeploymentView): Promise<string> {
  const [first] = await deployment.apis();
  if (!first) throw new Error(`${deployment.where} has no API instance`);
  return first.url;
}

/** The master the Sentinels name now, as the admin (the Redis ceiling, the bulk load); Compose: its own address. */
export async function masterAddress(deployment: DeploymentView): Promise<RedisAddress> {
  const { host, port } = await deployment.master();
  return { host, port, ...deployment.redisAdmin };
}

/** The sum of one counter over every instance's /metrics. */
export async function sumCounter(deployment: DeploymentView, name: string): Promise<number> {
  const urls = (await deployment.apis()).map((api) => api.url);
  const texts = await Promise.all(urls.map((url) => fetch(`${url}/metrics`).then((r) => r.text())));
  const line = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm');
  return texts.reduce((sum, text) => sum + [...text.matchAll(line)].reduce((s, m) => s + Number(m[1]), 0), 0);
}
