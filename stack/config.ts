import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The local stack's only reader of process.env: the contract's variables (.env.example), with a .env
 * beside package.json filling gaps (the real environment wins, as for the service).
 */

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface StackConfig {
  /** Absolute state folder: data, logs, rendered configs, the running stack's record. */
  dir: string;
  host: string;
  httpPort: number;
  /** NGINX's stub_status, for the exporter; never public. */
  statusPort: number;
  apiPorts: number[];
  /** The first is the initial master. */
  redisPorts: number[];
  sentinelPorts: number[];
  masterName: string;
  /** How long a silent master has before the Sentinels call it down (failover drills may shorten it). */
  downAfterMs: number;
  /** Sentinel's failover-timeout: a failover that stalls is abandoned after it, and retried after twice that. */
  failoverTimeoutMs: number;
  redisPassword: string | undefined;
  sentinelPassword: string | undefined;
  /** Unset: generated once into the state folder (see credentials.ts). */
  admin: { username: string; password: string } | undefined;
  jwtSecret: string | undefined;
  /** The built dist/ (npm start), or the TypeScript source through tsx (tests: no build step). */
  apiRunner: 'dist' | 'source';
  /** More environment for the API instances; the stack's own settings win. */
  apiEnv: Record<string, string>;
}

export class StackConfigError extends Error {
  override name = 'StackConfigError';
}

export function loadStackConfig(source: Record<string, string | undefined> = process.env): StackConfig {
  const dotenv = path.join(repoRoot, '.env');
  // Node's own .env reader never overrides a variable the environment already has; children inherit it.
  if (source === process.env && existsSync(dotenv)) process.loadEnvFile(dotenv);
  const env = (name: string): string | undefined => source[name] || undefined; // empty means unset
  const admin = [env('ADMIN_USERNAME'), env('ADMIN_PASSWORD')] as const;
  if (Boolean(admin[0]) !== Boolean(admin[1])) throw new StackConfigError('ADMIN_USERNAME and ADMIN_PASSWORD must be set together');
  const apiPorts = portList('API_PORTS', env('API_PORTS') ?? '3001,3002');
  // nginx/nginx.conf has one upstream server line per instance.
  if (apiPorts.length !== 2) throw new StackConfigError(`API_PORTS must list exactly 2 ports (one per API instance), got ${apiPorts.join(',')}`);
  const redisPorts = portList('REDIS_PORTS', env('REDIS_PORTS') ?? '6379,6380,6381');
  // min-replicas-to-write 1 (redis/redis.conf): a master alone refuses writes.
  if (redisPorts.length < 2) throw new StackConfigError('REDIS_PORTS must list at least 2 ports: a master and a replica');
  return {
    dir: path.resolve(repoRoot, env('STACK_DIR') ?? '.stack'),
    host: '127.0.0.1',
    httpPort: port('HTTP_PORT', env('HTTP_PORT') ?? '8080'),
    statusPort: port('NGINX_STATUS_PORT', env('NGINX_STATUS_PORT') ?? '8081'),
    apiPorts,
    redisPorts,
    sentinelPorts: portList('SENTINEL_PORTS', env('SENTINEL_PORTS') ?? '26379,26380,26381'),
    masterName: env('REDIS_MASTER_NAME') ?? 'evergreen',
    downAfterMs: milliseconds('SENTINEL_DOWN_AFTER_MS', env('SENTINEL_DOWN_AFTER_MS') ?? '5000'),
    failoverTimeoutMs: milliseconds('SENTINEL_FAILOVER_TIMEOUT_MS', env('SENTINEL_FAILOVER_TIMEOUT_MS') ?? '10000'),
    redisPassword: env('REDIS_PASSWORD'),
    sentinelPassword: env('SENTINEL_PASSWORD'),
    admin: admin[0] && admin[1] ? { username: admin[0], password: admin[1] } : undefined,
    jwtSecret: env('JWT_SECRET'),
    apiRunner: 'dist',
    apiEnv: {},
  };
}

function port(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new StackConfigError(`${name}: "${value}" is not a port (1-65535)`);
  return n;
}

function milliseconds(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 100) throw new StackConfigError(`${name}: "${value}" is not a duration in milliseconds (100 or more)`);
  return n;
}

function portList(name: string, value: string): number[] {
  return value.split(',').map((item) => port(name, item.trim()));
}
