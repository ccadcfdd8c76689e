import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { ensureEngine, stopEngine } from '../../stack/compose/engine.js';
import { buildStandInImages } from '../../stack/compose/images.js';
import { ComposeProject } from '../../stack/compose/project.js';
import { freePorts } from '../../stack/helpers/ports.js';
import { adminAuth, generateRedisSecrets, secretsEnv, sentinelAuth } from '../../stack/helpers/redis-users.js';
import { ComposeDeployment } from './compose.js';
import { freeSubnetPrefix } from './subnet.js';

/** What a tool's own project runs: the Redis tier, the API instances and NGINX (no monitoring, no Grafana). */
const SERVICES = ['redis-1', 'redis-2', 'redis-3', 'sentinel-1', 'sentinel-2', 'sentinel-3', 'api-1', 'api-2', 'nginx'];
const QUIET_IMAGE_LINE = /: checking$|\bcached\b|grafana|^image +result/;

export interface ComposeStartOptions {
  /** Names the project: evergreen-<purpose>-<random>. */
  purpose: string;
  downAfterMs: number;
  failoverTimeoutMs: number;
  /** Variables compose.yml passes to the API instances (LOG_LEVEL, RATE_LIMIT_MAX, …). */
  apiEnv: Record<string, string>;
  /** Leave the project (containers and volumes) when stopped. */
  keep: boolean;
  log: (msg: string) => void;
}

/**
 * compose.yml brought up as a project of a tool's own — a unique name, a free published port below 32768,
 * generated secrets, a free subnet — and handed over as a Deployment whose stop() takes it down with its volumes
 * (unless kept) and stops the Docker engine if this started it.
 */
export async function startComposeDeployment(opts: ComposeStartOptions): Promise<ComposeDeployment> {
  const { log } = opts;
  const enginePid = (await ensureEngine(log)).startedPid;
  log('stand-in images (built once, then cached)');
  await buildStandInImages((msg) => QUIET_IMAGE_LINE.test(msg) || log(`  ${msg}`));
  const [http, grafana] = (await freePorts(2)) as [number, number];
  const redis = generateRedisSecrets();
  const admin = { username: `${opts.purpose}-admin`, password: randomBytes(12).toString('hex') };
  const project = new ComposeProject(`evergreen-${opts.purpose}-${randomBytes(3).toString('hex')}`, {
    ...opts.apiEnv,
    ...secretsEnv(redis),
    JWT_SECRET: randomBytes(32).toString('hex'),
    GRAFANA_ADMIN_PASSWORD: randomBytes(12).toString('hex'),
    ADMIN_USERNAME: admin.username,
    ADMIN_PASSWORD: admin.password,
    HTTP_PORT: String(http),
    GRAFANA_PORT: String(grafana), // not run; compose.yml names it
    SENTINEL_DOWN_AFTER_MS: String(opts.downAfterMs),
    SENTINEL_FAILOVER_TIMEOUT_MS: String(opts.failoverTimeoutMs),
    COMPOSE_SUBNET_PREFIX: await freeSubnetPrefix(),
  });
  const stop = async () => {
    if (opts.keep) log(`kept the Compose project ${project.name} (docker-compose -p ${project.name} down -v)`);
    else {
      log(`compose down -v: ${project.name}`);
      await project.down({ volumes: true }).catch((err: Error) => log(err.message));
    }
    if (enginePid !== undefined) await stopEngine(enginePid, log);
  };
  // compose.yml passes no KEY_PREFIX or master name: the service's defaults.
  const { keyPrefix, masterName } = loadConfig({}, false).redis;
  const deployment = new ComposeDeployment(
    project,
    {
      publicUrl: `http://127.0.0.1:${http}`,
      admin,
      redisAdmin: adminAuth(redis),
      sentinelAuth: sentinelAuth(redis),
      keyPrefix,
      masterName,
      downAfterMs: opts.downAfterMs,
      failoverTimeoutMs: opts.failoverTimeoutMs,
    },
    stop,
  );
  log(`compose up: project ${project.name}, ${SERVICES.join(', ')} (the API image is built if changed)`);
  try {
    await project.up(SERVICES);
    await project.waitHealthy(SERVICES);
  } catch (err) {
    for (const service of SERVICES) log(await project.logs(service, 10).catch(String));
    await stop();
    throw err;
  }
  log(`compose up: every service healthy; NGINX on ${http}`);
  return deployment;
}
