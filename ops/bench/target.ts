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

/** Every API instance's /metrics (Prometheus text), each as this host reaches it. */
export async function instanceMetrics(deployment: DeploymentView): Promise<string[]> {
  const urls = (await deployment.apis()).map((api) => api.url);
  return Promise.all(urls.map((url) => fetch(`${url}/metrics`).then((r) => r.text())));
}

/** One counter's samples in a Prometheus text: each with its labels (`kind="product"`) and value; none if absent. */
export function counterSamples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const line = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)`, 'gm');
  return [...text.matchAll(line)].map((m) => ({
    labels: Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!])),
    value: Number(m[2]),
  }));
}

/** The sum of one counter over every instance's /metrics. */
export async function sumCounter(deployment: DeploymentView, name: string): Promise<number> {
  const texts = await instanceMetrics(deployment);
  return texts.reduce((sum, text) => sum + counterSamples(text, name).reduce((s, c) => s + c.value, 0), 0);
}
