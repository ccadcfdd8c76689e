import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtServer } from './build.js';
import { Child } from './child.js';
import { repoRoot, type StackConfig } from './config.js';
import type { Credentials } from './credentials.js';

const SOURCE_SERVER = path.join(repoRoot, 'src', 'server.ts');

/**
 * One API instance on port. Its folder is its working directory, so the service reads no .env of its
 * own: everything it needs comes from the stack, and the rest of the environment is inherited.
 */
export async function apiChild(config: StackConfig, credentials: Credentials, port: number, onCrash: (err: Error) => void): Promise<Child> {
  const dir = path.join(config.dir, `api-${port}`);
  await mkdir(dir, { recursive: true });
  const args = config.apiRunner === 'dist'
    ? ['--enable-source-maps', builtServer]
    : ['--import', fileURLToPath(import.meta.resolve('tsx')), SOURCE_SERVER];
  const env = {
    ...config.apiEnv,
    HOST: config.host,
    PORT: String(port),
    SENTINELS: config.sentinelPorts.map((p) => `${config.host}:${p}`).join(','),
    REDIS_MASTER_NAME: config.masterName,
    // Empty means none to the service, and overrides whatever the inherited environment says.
    REDIS_PASSWORD: config.redisPassword ?? '',
    SENTINEL_PASSWORD: config.sentinelPassword ?? '',
    ADMIN_USERNAME: credentials.admin.username,
    ADMIN_PASSWORD: credentials.admin.password,
    JWT_SECRET: credentials.jwtSecret,
  };
  return new Child({ name: `api-${port}`, command: process.execPath, args, log: path.join(dir, 'api.log'), cwd: dir, env }, onCrash);
}
