import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { ensureEngine, stopEngine } from '../../stack/compose/engine.js';
import { buildStandInImages } from '../../stack/compose/images.js';
import { ComposeProject } from '../../stack/compose/project.js';
import { freePorts } from '../../stack/helpers/ports.js';
import { adminAuth, generateRedisSecrets, secretsEnv, sentinelAuth } from '../../stack/helpers/redis-users.js';
import { freeSubnetPrefix } from '../../stack/helpers/subnet.js';
import { makeTempDir } from '../../stack/helpers/temporary.js';
import { waitFor } from '../../stack/helpers/wait.js';
import { ComposeDeployment } from './compose.js';
import { projectContainers } from './compose-containers.js';
import { OverriddenProject, writeNginxOverride } from './compose-override.js';

/** What a tool's own project runs: the Redis tier, the API instances and NGINX (no monitoring, no Grafana). */
const SERVICES = ['redis-1', 'redis-2', 'redis-3', 'sentinel-1', 'sentinel-2', 'sentinel-3', 'api-1', 'api-2', 'nginx'];
const APIS = SERVICES.filter((s) => s.startsWith('api-'));
const QUIET_IMAGE_LINE = /: checking$|\bcached\b|grafana|^image +result/;
const HEALTHY_TIMEOUT_MS = 180_000;
const PROGRESS_EVERY_MS = 5000;

export interface ComposeStartOptions {
  /** Names the project: evergreen-<purpose>-<random>. */
  purpose: string;
  downAfterMs: number;
  failoverTimeoutMs: number;
  /** Variables compose.yml passes to the API instances (LOG_LEVEL, RATE_LIMIT_MAX, …). */
  apiEnv: Record<string, string>;
  /** NGINX locations inserted at its template's mark (npm run bench's trivial route), by an override file. */
  nginxLocations?: string;
  /** Leave the project (containers and volumes) when stopped. */
  keep: boolean;
  log: (msg: string) => void;
  /**
   * Aborted while it starts (SIGINT): it takes down what it made and rejects — after a running `up` ends, so
   * that nothing `up` creates outlives `down`. Once it has resolved, the deployment's stop() does that.
   */
  signal?: AbortSignal;
}

/**
 * compose.yml brought up as a project of a tool's own — a unique name, a free published port below 32768,
 * generated secrets, a free subnet — and handed over as a Deployment whose stop() takes it down with its volumes
 * (unless kept) and stops the Docker engine if this started it. Rejects, having taken down what it made, when
 * it cannot start or is aborted.
 */
export async function startComposeDeployment(opts: ComposeStartOptions): Promise<ComposeDeployment> {
  const { log, signal } = opts;
  signal?.throwIfAborted();
  const enginePid = (await ensureEngine(log)).startedPid;
  // What stop() undoes, as it is made. Once only: a tool's SIGINT handler and its finally may both call it.
  let project: ComposeProject | undefined;
  let overrideDir: string | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (project && opts.keep) {
        const override = overrideDir ? `; its override file is in ${overrideDir}` : '';
        log(`kept the Compose project ${project.name} (docker-compose -p ${project.name} down -v)${override}`);
      } else {
        if (project) log(`compose down -v: ${project.name}`);
        await project?.down({ volumes: true }).catch((err: Error) => log(err.message));
        if (overrideDir) await rm(overrideDir, { recursive: true, force: true });
      }
      if (enginePid !== undefined) await stopEngine(enginePid, log);
    })());
  try {
    signal?.throwIfAborted();
    log('stand-in images (built once, then cached)');
    await buildStandInImages((msg) => QUIET_IMAGE_LINE.test(msg) || log(`  ${msg}`));
    signal?.throwIfAborted();
    const [http, grafana] = (await freePorts(2)) as [number, number];
    const redis = generateRedisSecrets();
    const admin = { username: `${opts.purpose}-admin`, password: randomBytes(12).toString('hex') };
    const name = `evergreen-${opts.purpose}-${randomBytes(3).toString('hex')}`;
    const vars = {
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
    };
    if (opts.nginxLocations === undefined) project = new ComposeProject(name, vars);
    else {
      overrideDir = await makeTempDir(`${opts.purpose}-compose`);
      project = new OverriddenProject(name, vars, await writeNginxOverride(overrideDir, opts.nginxLocations));
    }
    await checkApiEnv(project, opts.apiEnv);
    signal?.throwIfAborted();
    await upHealthy(project, log, signal);
    log(`compose up: every service healthy; NGINX on ${http}`);
    // compose.yml passes no KEY_PREFIX or master name: the service's defaults.
    const { keyPrefix, masterName } = loadConfig({}, false).redis;
    const settings = {
      publicUrl: `http://127.0.0.1:${http}`,
      admin,
      redisAdmin: adminAuth(redis),
      sentinelAuth: sentinelAuth(redis),
      keyPrefix,
      masterName,
      downAfterMs: opts.downAfterMs,
      failoverTimeoutMs: opts.failoverTimeoutMs,
    };
    return new ComposeDeployment(project, settings, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Every variable of apiEnv must reach both instances: compose.yml passes on only those it names. */
async function checkApiEnv(project: ComposeProject, apiEnv: Record<string, string>): Promise<void> {
  const config = parse(await project.compose(['config'])) as {
    services: Record<string, { environment?: Record<string, string> }>;
  };
  for (const api of APIS) {
    const env = config.services[api]?.environment ?? {};
    const lost = Object.entries(apiEnv).filter(([key, value]) => String(env[key]) !== value);
    if (lost.length > 0) throw new Error(`${api} would not get ${lost.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  }
}

/**
 * `up`, then every service healthy, with a progress line every 5 s meanwhile (the first `up` builds the API
 * image for minutes). An abort is heeded once `up` has ended, and at once while waiting for health.
 */
async function upHealthy(project: ComposeProject, log: (msg: string) => void, signal: AbortSignal | undefined) {
  log(`compose up: project ${project.name}, ${SERVICES.join(', ')} (about 45 s; the API image is built if changed)`);
  const stopProgress = logProgress(project.name, log);
  try {
    await project.up(SERVICES);
    await waitFor(
      'every service to be healthy',
      HEALTHY_TIMEOUT_MS,
      async () => {
        const status = await upStatus(project.name);
        if (!status.ready) throw new Error(status.line);
      },
      () => (signal?.aborted ? (signal.reason as Error) : undefined),
    );
  } catch (err) {
    stopProgress();
    if (!signal?.aborted) for (const service of SERVICES) log(await project.logs(service, 10).catch(String));
    throw err;
  } finally {
    stopProgress();
  }
}

/** Logs upStatus's line when it changed, or every third tick while nothing does (an image building); returns a stop. */
function logProgress(project: string, log: (msg: string) => void): () => void {
  let [last, unchanged, done] = ['', 0, false];
  const timer = setInterval(() => {
    void upStatus(project).then(({ line }) => {
      if (done) return;
      if (line !== last || ++unchanged % 3 === 0) log(`  ${line}`);
      if (line !== last) unchanged = 0;
      last = line;
    });
  }, PROGRESS_EVERY_MS);
  return () => {
    done = true;
    clearInterval(timer);
  };
}

/** How far `up` is, by the project's containers: ready once every service runs and none waits for its healthcheck. */
async function upStatus(project: string): Promise<{ ready: boolean; line: string }> {
  // A container removed between docker ps and docker inspect fails the listing: it counts as not up yet.
  const containers = await projectContainers(project).catch(() => []);
  const up = containers.filter((c) => c.running && SERVICES.includes(c.service));
  if (up.length === 0) return { ready: false, line: 'building the API image / creating the network' };
  const healthy = up.filter((c) => c.health === 'healthy').length;
  const waiting = up.filter((c) => c.health !== undefined && c.health !== 'healthy').map((c) => c.service);
  const line = `${up.length}/${SERVICES.length} containers up, ${healthy} healthy`;
  return {
    ready: up.length === SERVICES.length && waiting.length === 0,
    line: waiting.length > 0 ? `${line}; waiting: ${waiting.sort().join(', ')}` : line,
  };
}
