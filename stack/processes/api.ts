import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtServer } from '../helpers/build.js';
import type { StackConfig } from '../config.js';
import type { Credentials } from '../helpers/credentials.js';
import { repoRoot, stateLayout } from '../layout.js';
import { REDIS_USERS } from '../helpers/redis-users.js';
import { Supervised } from '../supervisor/supervised.js';
import type { StackTier } from '../tiers.js';
import { expectStatus } from '../helpers/wait.js';

const SOURCE_SERVER = path.join(repoRoot, 'src', 'server.ts');
// The API waits up to REDIS_READY_TIMEOUT_MS (30 s) for the master; tsx compiles for a few more.
const API_READY_TIMEOUT_MS = 45_000;
// It closes within close-with-grace's 10 s.
const API_STOP_GRACE_MS = 12_000;

/**
 * One API instance on port. Its folder is its working directory, so the service reads no .env of its
 * own: everything it needs comes from the stack, and the rest of the environment is inherited.
 */
export async function apiProcess(
  config: StackConfig,
  credentials: Credentials,
  port: number,
  onCrash: (err: Error) => void,
): Promise<Supervised> {
  const files = stateLayout(config.dir).api(port);
  await mkdir(files.dir, { recursive: true });
  const inspectPort = config.apiInspectPorts?.[config.apiPorts.indexOf(port)];
  const args = [
    ...(inspectPort === undefined ? [] : [`--inspect=${config.host}:${inspectPort}`]),
    ...(config.apiRunner === 'dist'
      ? ['--enable-source-maps', builtServer]
      : ['--import', fileURLToPath(import.meta.resolve('tsx')), SOURCE_SERVER]),
  ];
  const env = {
    ...config.apiEnv,
    HOST: config.host,
    PORT: String(port),
    SENTINELS: config.sentinelPorts.map((p) => `${config.host}:${p}`).join(','),
    REDIS_MASTER_NAME: config.masterName,
    // The service's own Redis user (redis/users.conf), which may touch only keys under KEY_PREFIX.
    REDIS_USERNAME: REDIS_USERS.service,
    REDIS_PASSWORD: credentials.redis.service,
    // The same user on the Sentinels (sentinel/sentinel.conf): it reads what they know, reconfigures nothing.
    SENTINEL_USERNAME: REDIS_USERS.service,
    SENTINEL_PASSWORD: credentials.redis.service,
    KEY_PREFIX: config.keyPrefix,
    ADMIN_USERNAME: credentials.admin.username,
    ADMIN_PASSWORD: credentials.admin.password,
    JWT_SECRET: credentials.jwtSecret,
  };
  const ready = () => expectStatus(`http://${config.host}:${port}/health/ready`, 200);
  return new Supervised(
    {
      name: files.name,
      command: process.execPath,
      args,
      log: files.log,
      logDirectly: true,
      rotation: config.logRotation,
      cwd: files.dir,
      env,
      graceMs: API_STOP_GRACE_MS,
      detached: true,
      ready,
      readyTimeoutMs: API_READY_TIMEOUT_MS,
    },
    onCrash,
  );
}

/** The API instances, one per port of API_PORTS, once Redis is up; stopped together. */
export const apiTier: StackTier = {
  ports: ({ apiPorts }) => apiPorts.map((port) => ({ port, what: 'API instance (API_PORTS)' })),
  async start(host) {
    const { config, credentials } = host;
    const apis = config.apiPorts.map((port) => apiProcess(config, credentials, port, host.reportCrash));
    host.procs.apis = await Promise.all(apis);
    await Promise.all(host.procs.apis.map((_, i) => host.startApi(i)));
    return `API instances ready on ${config.apiPorts.join(', ')}`;
  },
  stop: async (host) => {
    await Promise.all(host.procs.apis.map((api) => api.stop()));
  },
};
