import { execa } from 'execa';
import { keySchema } from '../../src/redis/keys.js';
import type { DeploymentView } from '../deployment/deployment.js';
import { masterAddress } from './target.js';
import type { WrkResult } from './wrk.js';

export const REDIS_CEILING = 'ceiling-redis';
export const REDIS_CEILING_WHAT = "redis-benchmark: a catalog read's one command (HGETALL of a product) on the master";

/**
 * What Redis itself allows a catalog read: redis-benchmark sending the read's command, one round trip at a time
 * per connection as the service does, with as many connections as the HTTP scenarios.
 */
export async function redisCeiling(
  deployment: DeploymentView,
  productId: string,
  connections: number,
  durationSeconds: number,
): Promise<WrkResult> {
  const master = await masterAddress(deployment);
  const key = keySchema(deployment.keyPrefix).product(productId);
  // About as long as the HTTP scenarios: a first short run tells the rate.
  const run = async (requests: number) => {
    const args = ['-h', master.host, '-p', String(master.port), '-c', String(connections), '-n', String(requests)];
    // redis-benchmark reads no REDISCLI_AUTH: the admin's password of the benchmark's own throwaway stack goes in -a.
    const auth = [...(master.username ? ['--user', master.username] : []), '-a', master.password];
    const started = performance.now();
    const { stdout } = await execa('redis-benchmark', [...args, ...auth, '--csv', 'HGETALL', key]);
    const seconds = (performance.now() - started) / 1000;
    const values =
      stdout
        .trim()
        .split('\n')
        .at(-1)
        ?.split(',')
        .map((v) => Number(v.replaceAll('"', ''))) ?? [];
    const [, rps = 0, , , p50 = 0, , p99 = 0, max = 0] = values;
    return { rps, p50, p99, max, seconds, requests };
  };
  const probe = await run(20_000);
  const measured = await run(Math.max(20_000, Math.round(probe.rps * durationSeconds)));
  return {
    requests: measured.requests,
    seconds: measured.seconds,
    rps: measured.rps,
    p50Ms: measured.p50,
    p99Ms: measured.p99,
    maxMs: measured.max,
    errors: 0,
    statuses: {},
    generatorCpuSeconds: 0,
  };
}
