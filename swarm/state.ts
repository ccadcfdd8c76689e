import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateRedisSecrets, type RedisSecrets } from '../stack/helpers/redis-users.js';
import { stateDir, type SwarmLayout } from './layout.js';

/** What `npm run swarm -- up` made and every later command (status, down, the drill) needs to find it again. */
export interface SwarmRecord extends SwarmLayout {
  /** Host ports: the edge load balancer (HTTP_PORT) and the registry the host pushes to (loopback). */
  httpPort: number;
  registryPort: number;
  monitoring: boolean;
  redis: RedisSecrets;
  jwtSecret: string;
  admin: { username: string; password: string };
  grafanaPassword: string;
}

const recordFile = (name: string) => path.join(stateDir(name), 'swarm.json');

export async function readSwarmRecord(name: string): Promise<SwarmRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordFile(name), 'utf8')) as SwarmRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function writeSwarmRecord(record: SwarmRecord): Promise<void> {
  await mkdir(stateDir(record.name), { recursive: true, mode: 0o700 });
  // It holds every password: readable by its owner only.
  await writeFile(recordFile(record.name), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
}

export const removeSwarmState = (name: string) => rm(stateDir(name), { recursive: true, force: true });

/** Fresh secrets for a new swarm. */
export function newSecrets(
  adminUsername: string,
): Pick<SwarmRecord, 'redis' | 'jwtSecret' | 'admin' | 'grafanaPassword'> {
  return {
    redis: generateRedisSecrets(),
    jwtSecret: randomBytes(32).toString('hex'),
    admin: { username: adminUsername, password: randomBytes(12).toString('hex') },
    grafanaPassword: randomBytes(12).toString('hex'),
  };
}

/** Each Docker secret the stack file names, with its value. */
export function dockerSecrets(r: SwarmRecord): Record<string, string> {
  return {
    evergreen_redis_password: r.redis.service,
    evergreen_redis_replication_password: r.redis.replication,
    evergreen_redis_sentinel_password: r.redis.sentinel,
    evergreen_redis_exporter_password: r.redis.exporter,
    evergreen_redis_admin_password: r.redis.admin,
    evergreen_sentinel_password: r.redis.sentinels,
    evergreen_jwt_secret: r.jwtSecret,
    evergreen_admin_password: r.admin.password,
    evergreen_grafana_admin_password: r.grafanaPassword,
  };
}
