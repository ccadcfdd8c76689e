import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { DEFAULTS } from '../../src/config-defaults.js';
import { loadConfig } from '../../src/config.js';
import { DOCKER } from '../../stack/compose/docker-cli.js';
import { ensureEngine, stopEngine } from '../../stack/compose/engine.js';
import { buildStandInImages } from '../../stack/compose/images.js';
import { ComposeProject } from '../../stack/compose/project.js';
import { repoRoot } from '../../stack/layout.js';
import { freePorts } from '../../stack/helpers/ports.js';
import { adminAuth, generateRedisSecrets, secretsEnv, sentinelAuth } from '../../stack/helpers/redis-users.js';
import { EXTRA_LOCATIONS_MARK } from '../../stack/processes/nginx.js';
import { ComposeDeployment } from '../deployment/compose.js';
import { freeSubnetPrefix } from '../deployment/subnet.js';
import { BENCH_NGINX_LOCATIONS } from './scenarios.js';
import type { BenchTarget } from './target.js';

const REDIS_NODES = ['redis-1', 'redis-2', 'redis-3'];
const SENTINEL_TIMINGS = { downAfterMs: DEFAULTS.downAfterMs, failoverTimeoutMs: DEFAULTS.failoverTimeoutMs };
/** The one API instance published for ceiling-direct. */
const DIRECT_API = 'api-1';
/** Grafana has no stand-in image (no Debian package): every other service runs, as in the Compose tests. */
const LEFT_OUT = ['grafana'];
const NGINX_TEMPLATE = path.join(repoRoot, 'nginx', 'nginx.conf');
// Where the nginx image reads the template compose.yml mounts.
const NGINX_TEMPLATE_IN_CONTAINER = '/etc/nginx/templates/nginx.conf.template';
const PROGRESS_EVERY_MS = 5000;
const QUIET_IMAGE_LINE = /: checking$|\bcached\b|grafana|^image +result/;

/** What the benchmark's project publishes on 127.0.0.1, beyond NGINX: one instance and each Redis node. */
export interface PublishedPorts {
  http: number;
  directApi: number;
  redis: Record<string, number>;
}

/** compose.yml with an override file that only the benchmark's own project uses. */
class OverriddenProject extends ComposeProject {
  constructor(
    name: string,
    vars: Record<string, string>,
    private readonly overrideFile: string,
  ) {
    super(name, vars);
  }

  override compose(args: string[], timeoutMs?: number): Promise<string> {
    return super.compose(['--file', this.overrideFile, ...args], timeoutMs);
  }
}

/**
 * The override: api-1 and every Redis node published on 127.0.0.1 (NGINX already is), and NGINX's template
 * with the benchmark's locations inserted where the local stack inserts them.
 */
export async function writeOverride(dir: string, ports: PublishedPorts): Promise<string> {
  const template = await readFile(NGINX_TEMPLATE, 'utf8');
  if (!template.includes(EXTRA_LOCATIONS_MARK)) throw new Error(`${NGINX_TEMPLATE} lost its mark for the bench`);
  const benchTemplate = path.join(dir, 'nginx.conf.template');
  await writeFile(benchTemplate, template.replace(EXTRA_LOCATIONS_MARK, BENCH_NGINX_LOCATIONS));
  const services: Record<string, object> = {
    [DIRECT_API]: { ports: [`127.0.0.1:${ports.directApi}:3000`] },
    nginx: { volumes: [`${benchTemplate}:${NGINX_TEMPLATE_IN_CONTAINER}:ro`] },
  };
  for (const [node, port] of Object.entries(ports.redis)) services[node] = { ports: [`127.0.0.1:${port}:6379`] };
  const file = path.join(dir, 'compose.bench.yml');
  await writeFile(file, stringify({ services }));
  return file;
}

/**
 * The BenchTarget of a running benchmark project: the master as the Sentinels name it (the deployment module
 * asks them), then reached on its published port, as the benchmark measures through Docker's proxy.
 */
export function composeTarget(deployment: ComposeDeployment, ports: PublishedPorts): BenchTarget {
  return {
    kind: 'compose',
    publicUrl: deployment.publicUrl,
    directUrl: `http://127.0.0.1:${ports.directApi}`,
    // Only api-1 is published: a sum over the instances' /metrics would miss api-2.
    instanceUrls: [],
    admin: deployment.admin,
    keyPrefix: deployment.keyPrefix,
    master: async () => {
      const { name } = await deployment.master();
      const port = ports.redis[name];
      if (port === undefined) throw new Error(`the Sentinels name ${name} as master, which is not published`);
      return { host: '127.0.0.1', port, ...deployment.redisAdmin };
    },
  };
}

/**
 * compose.yml brought up for `npm run bench -- --target compose`: a project of its own (name, free ports,
 * generated secrets, its own subnet), the API instances with the benchmark's environment, everything but
 * Grafana. close() takes it down with its volumes, and stops dockerd when start() started it; it may be called
 * at any moment, e.g. on SIGINT halfway through start().
 */
export class ComposeBench {
  private project: OverriddenProject | undefined;
  private enginePid: number | undefined;
  private closing: Promise<void> | undefined;
  /** `up` while it runs: close() lets it end first, so that nothing it creates outlives `down`. */
  private upping: Promise<unknown> | undefined;

  constructor(
    private readonly dir: string,
    /** Environment for the API instances (variables compose.yml reads). */
    private readonly apiEnv: Record<string, string>,
    private readonly log: (msg: string) => void,
  ) {}

  async start(): Promise<BenchTarget> {
    const log = this.log;
    this.enginePid = (await ensureEngine(log)).startedPid;
    log('stand-in images (built once, then cached)');
    // Only what was built or kept aside; Grafana's missing image does not matter here (it is left out).
    await buildStandInImages((msg) => QUIET_IMAGE_LINE.test(msg) || log(`  ${msg}`));
    const [http, directApi, grafana, ...redis] = (await freePorts(3 + REDIS_NODES.length)) as [
      number,
      number,
      number,
      ...number[],
    ];
    const ports: PublishedPorts = {
      http,
      directApi,
      redis: Object.fromEntries(REDIS_NODES.map((node, i) => [node, redis[i] ?? 0])),
    };
    const suffix = randomBytes(3).toString('hex');
    const secrets = {
      redis: generateRedisSecrets(),
      admin: { username: 'bench-admin', password: randomBytes(12).toString('hex') },
    };
    const name = `evergreen-bench-${suffix}`;
    this.project = new OverriddenProject(
      name,
      {
        ...this.apiEnv,
        ...secretsEnv(secrets.redis),
        JWT_SECRET: randomBytes(32).toString('hex'),
        GRAFANA_ADMIN_PASSWORD: randomBytes(12).toString('hex'),
        ADMIN_USERNAME: secrets.admin.username,
        ADMIN_PASSWORD: secrets.admin.password,
        HTTP_PORT: String(http),
        GRAFANA_PORT: String(grafana), // not run; compose.yml names it
        COMPOSE_SUBNET_PREFIX: await freeSubnetPrefix(),
      },
      await writeOverride(this.dir, ports),
    );
    const services = await this.services();
    await this.checkApiEnv();
    log(`compose up: project ${name}, ${services.length} services (about 45 s; the API image is built if changed)`);
    let [last, upDone] = ['', false];
    let unchanged = 0;
    const progress = setInterval(() => {
      void this.progress(services.length).then((line) => {
        if (upDone) return;
        // A line when something changed, or every third tick while the image builds.
        if (line !== last || ++unchanged % 3 === 0) log(line);
        if (line !== last) unchanged = 0;
        last = line;
      });
    }, PROGRESS_EVERY_MS);
    try {
      this.upping = this.project.up(services);
      await this.upping;
      await this.project.waitHealthy(services);
    } catch (err) {
      if (!this.closing) for (const service of services) log(await this.project.logs(service, 10).catch(String));
      throw err;
    } finally {
      upDone = true;
      clearInterval(progress);
    }
    log(`compose up: every service healthy; NGINX on ${http}, ${DIRECT_API} on ${directApi}`);
    // compose.yml passes no KEY_PREFIX, master name or Sentinel timings: the service's defaults.
    const { keyPrefix, masterName } = loadConfig({}, false).redis;
    const settings = {
      publicUrl: `http://127.0.0.1:${http}`,
      admin: secrets.admin,
      redisAdmin: adminAuth(secrets.redis),
      sentinelAuth: sentinelAuth(secrets.redis),
      keyPrefix,
      masterName,
      ...SENTINEL_TIMINGS,
    };
    return composeTarget(new ComposeDeployment(this.project, settings, () => this.close()), ports);
  }

  /** Takes the project down with its volumes, then stops the engine if start() started it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.project) {
        // Ctrl-C ends docker-compose up too; a SIGINT to this process alone leaves it to finish.
        await this.upping?.catch(() => undefined);
        this.log(`compose down -v: ${this.project.name}`);
        await this.project.down({ volumes: true }).catch((err: Error) => this.log(err.message));
      }
      if (this.enginePid !== undefined) await stopEngine(this.enginePid, this.log);
    })();
    return this.closing;
  }

  private async services(): Promise<string[]> {
    const listed = await this.requireProject().compose(['config', '--services']);
    return listed.split('\n').filter((s) => s && !LEFT_OUT.includes(s));
  }

  /** Every variable of apiEnv must reach both instances: compose.yml reads only those it names. */
  private async checkApiEnv(): Promise<void> {
    const config = parse(await this.requireProject().compose(['config'])) as {
      services: Record<string, { environment?: Record<string, string> }>;
    };
    for (const api of ['api-1', 'api-2']) {
      const env = config.services[api]?.environment ?? {};
      const lost = Object.entries(this.apiEnv).filter(([key, value]) => String(env[key]) !== value);
      if (lost.length > 0) throw new Error(`${api} would not get ${lost.map(([k, v]) => `${k}=${v}`).join(', ')}`);
    }
  }

  /** One line: how many containers run and are healthy, and which are not yet. */
  private async progress(total: number): Promise<string> {
    const label = `label=com.docker.compose.project=${this.requireProject().name}`;
    const format = '{{.Label "com.docker.compose.service"}}\t{{.Status}}';
    const { stdout } = await execa(DOCKER, ['ps', '--filter', label, '--format', format], { reject: false });
    const rows = stdout.split('\n').filter(Boolean);
    const waiting = rows.filter((row) => /\((health: starting|unhealthy)\)/.test(row)).map((row) => row.split('\t')[0]);
    const healthy = rows.filter((row) => row.includes('(healthy)')).length;
    const state = `${rows.length}/${total} containers up, ${healthy} healthy`;
    const building = '  building the API image / creating the network';
    return rows.length === 0
      ? building
      : `  ${state}${waiting.length ? `; waiting: ${waiting.sort().join(', ')}` : ''}`;
  }

  private requireProject(): OverriddenProject {
    if (!this.project) throw new Error('the Compose project is not created yet');
    return this.project;
  }
}
