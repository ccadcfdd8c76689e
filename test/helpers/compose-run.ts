import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import { Redis } from 'ioredis';
import { engineAnswers } from '../../stack/compose/engine.js';
import { buildStandInImages } from '../../stack/compose/images.js';
import { ComposeProject, type ComposeEvent } from '../../stack/compose/project.js';
import { adminAuth, generateRedisSecrets, secretsEnv, type RedisSecrets } from '../../stack/helpers/redis-users.js';
import { freePorts } from './fixtures.js';
import { loadCompose } from './compose.js';

/** Running compose.yml for real in the tests: an engine, the stand-in images, a project of the test's own. */

/** Grafana cannot be built here (no Debian package, no image pull): every other service runs. */
export const RUNNABLE_SERVICES = Object.keys(loadCompose().services).filter((name) => name !== 'grafana');

export const COMPOSE_ADMIN = { username: 'compose-admin', password: 'compose-admin-password-1' };

export interface RunningProject {
  project: ComposeProject;
  base: string;
  secrets: RedisSecrets;
  /** Seconds from `up` to every service healthy. */
  upSeconds: number;
  /** When `up` began and when every service was healthy (epoch milliseconds). */
  /** What the engine reported of the project's containers while it came up (starts, health changes). */
  upEvents: ComposeEvent[];
}

/**
 * Whether a Docker engine answers: tap's before step (test/setup/before.ts) starts one as root. Without root
 * there may be none: the caller then skips, saying so; as root its absence is a failure.
 */
export async function engineForTests(t: Test): Promise<boolean> {
  if (await engineAnswers()) return true;
  if (process.getuid?.() === 0) throw new Error('no Docker engine answers, though test/setup/before.ts starts one');
  t.comment('SKIPPED: no Docker engine answers and this is not root, so none could be started for the tests');
  return false;
}

/**
 * Builds the stand-in images (cached) and brings compose.yml up under a project name, ports and subnet of its
 * own; on teardown everything it made goes, volumes included. Resolves undefined when there is no engine.
 */
export const startComposeProject = (t: Test) => startComposeServices(t, RUNNABLE_SERVICES);

/** The Redis node Sentinel names as master: its Compose service (the announced host name) and port. */
export async function sentinelMaster(running: RunningProject, sentinel = 'sentinel-1'): Promise<string> {
  const out = await running.project.exec(sentinel, [
    'sh',
    '-c',
    `REDISCLI_AUTH="$SENTINEL_PASSWORD" redis-cli -p 26379 sentinel get-master-addr-by-name "$MASTER_NAME"`,
  ]);
  const [host] = out.trim().split('\n');
  if (!host) throw new Error(`${sentinel} names no master: ${out}`);
  return host;
}

/** An admin's client of a node, through its container's address on the Compose network (the host can route to it). */
export async function nodeClient(running: RunningProject, service: string): Promise<Redis> {
  const { ip } = await running.project.state(service);
  if (!ip) throw new Error(`${service} has no address`);
  const redis = new Redis({ host: ip, port: 6379, ...adminAuth(running.secrets), lazyConnect: true });
  await redis.connect();
  return redis;
}

/**
 * startComposeProject for `services` only (and what they depend on): a test that needs neither Grafana nor the
 * monitoring services starts in less time. Same project of its own, same teardown (down -v).
 */
export async function startComposeServices(t: Test, services: string[]): Promise<RunningProject | undefined> {
  if (!(await engineForTests(t))) return undefined;
  await buildStandInImages((msg) => t.comment(msg));
  const [httpPort, grafanaPort] = (await freePorts(2)) as [number, number];
  const suffix = randomBytes(3).toString('hex');
  const secrets = generateRedisSecrets();
  const project = new ComposeProject(`evergreen-test-${suffix}`, {
    ...secretsEnv(secrets),
    JWT_SECRET: randomBytes(32).toString('hex'),
    GRAFANA_ADMIN_PASSWORD: `grafana-${suffix}`,
    ADMIN_USERNAME: COMPOSE_ADMIN.username,
    ADMIN_PASSWORD: COMPOSE_ADMIN.password,
    HTTP_PORT: String(httpPort),
    GRAFANA_PORT: String(grafanaPort),
    // A /24 of its own, so that it never overlaps a developer's running deployment (172.30.250 by default).
    COMPOSE_SUBNET_PREFIX: `172.30.${1 + (parseInt(suffix.slice(0, 2), 16) % 240)}`,
    RATE_LIMIT_MAX: '1000000',
    LOGIN_RATE_LIMIT_MAX: '100000',
  });
  const report = async () => {
    for (const service of services) t.comment(await project.logs(service, 15).catch(String));
  };
  t.teardown(async () => {
    if (!t.passing()) await report();
    await project.down({ volumes: true });
  });
  const startedAt = Date.now();
  const recording = project.recordEvents();
  try {
    await project.up(services);
    await project.waitHealthy(services);
  } catch (err) {
    await recording.stop();
    // A failure here ends the test file before any teardown runs: leave nothing behind.
    await report();
    await project.down({ volumes: true }).catch((e: Error) => t.comment(e.message));
    throw err;
  }
  const upSeconds = (Date.now() - startedAt) / 1000;
  const upEvents = await recording.stop();
  t.comment(`compose up (${services.join(', ')}): healthy after ${upSeconds.toFixed(1)} s`);
  return { project, base: `http://127.0.0.1:${httpPort}`, secrets, upSeconds, upEvents };
}
