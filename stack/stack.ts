import { mkdir } from 'node:fs/promises';
import type { StackConfig } from './config.js';
import { resolveCredentials, type Credentials } from './credentials.js';
import { stateLayout } from './layout.js';
import { assertPortsFree } from './ports.js';
import { apiProcess } from './processes/api.js';
import { nginxProcess, renderNginxConfig, testNginxConfig } from './processes/nginx.js';
import type { Supervised } from './supervisor/supervised.js';
import { startTopology, type Topology } from './topology/topology.js';

export interface StackOptions {
  /** Absolute path of the nginx binary (packages.ts finds it). */
  nginx: string;
  /** Progress lines and crash reports. */
  log: (msg: string) => void;
}

/**
 * The whole local topology as child processes on loopback: Redis nodes and Sentinels (topology.ts),
 * the API instances, NGINX in front. Started in that order and stopped in the reverse one.
 */
export class LocalStack {
  topology: Topology | undefined;
  apis: Supervised[] = [];
  nginx: Supervised | undefined;
  private resolvedCredentials: Credentials | undefined;
  private startup: Promise<void> | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly config: StackConfig,
    private readonly options: StackOptions,
  ) {}

  /** The admin and JWT secret the API instances were given (known once start() has begun). */
  get credentials(): Credentials {
    if (!this.resolvedCredentials) throw new Error('the stack has not been started');
    return this.resolvedCredentials;
  }

  get publicUrl(): string {
    return `http://${this.config.host}:${this.config.httpPort}`;
  }

  apiUrl(i: number): string {
    return `http://${this.config.host}:${this.config.apiPorts[i]}`;
  }

  /** Every process of the stack: its name, pid while it runs, and log. */
  processes(): { name: string; pid: number | undefined; log: string }[] {
    const children = [...this.apis, ...(this.nginx ? [this.nginx] : [])];
    const own = children.map((c) => ({ name: c.spec.name, pid: c.pid, log: c.spec.log }));
    return [...(this.topology?.processes() ?? []), ...own];
  }

  /** Every process of the stack that runs now. */
  pids(): number[] {
    return this.processes().flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
  }

  /** Starts everything and waits until it is healthy; on any failure stops what started and throws. */
  async start(): Promise<void> {
    this.startup = this.startInOrder();
    try {
      await this.startup;
      this.started = true;
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Starts instance i again (after a crash or a drill) and waits until it is ready. */
  async startApi(i: number): Promise<void> {
    const api = this.apis[i];
    if (!api) throw new Error(`no API instance ${i}`);
    if (api.running) return;
    api.start();
    this.options.log(`  ${api.spec.name}: started, pid ${api.pid}`);
    await api.waitUntilReady();
  }

  /**
   * Stops everything, newest first (Sentinels before Redis, so they start no failover); idempotent.
   * During start-up, the step in flight (each is bounded) finishes first and the next one is not begun.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.startup?.catch(() => {}); // start() reports its own failure
      await this.nginx?.stop();
      await Promise.all(this.apis.map((api) => api.stop()));
      await this.topology?.stop();
    })();
    return this.stopping;
  }

  private async startInOrder(): Promise<void> {
    const { config, options } = this;
    const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
      if (this.stopping) throw new Error(`stopped while starting (before: ${what})`);
      const started = Date.now();
      const result = await work();
      options.log(`${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return result;
    };
    await mkdir(config.dir, { recursive: true, mode: 0o700 });
    await step('every port is free', () => assertPortsFree(config.host, this.portUses()));
    const credentials = (this.resolvedCredentials = await resolveCredentials(config));
    await step(`Redis ${config.redisPorts.length} nodes and ${config.sentinelPorts.length} Sentinels up`, async () => {
      this.topology = await startTopology({
        dir: config.dir,
        host: config.host,
        redisPorts: config.redisPorts,
        sentinelPorts: config.sentinelPorts,
        masterName: config.masterName,
        downAfterMs: config.downAfterMs,
        failoverTimeoutMs: config.failoverTimeoutMs,
        redisPassword: config.redisPassword,
        sentinelPassword: config.sentinelPassword,
        detached: true,
        log: (msg) => options.log(`  ${msg}`),
      });
    });
    await step(`API instances ready on ${config.apiPorts.join(', ')}`, async () => {
      const apis = config.apiPorts.map((port) => apiProcess(config, credentials, port, this.reportCrash));
      this.apis = await Promise.all(apis);
      await Promise.all(this.apis.map((_, i) => this.startApi(i)));
    });
    await step(`NGINX serving ${this.publicUrl}`, () => this.startNginx());
  }

  private async startNginx(): Promise<void> {
    const { config, options } = this;
    const files = await renderNginxConfig(stateLayout(config.dir).nginx, {
      host: config.host,
      httpPort: config.httpPort,
      statusPort: config.statusPort,
      upstreams: config.apiPorts.map((port) => `${config.host}:${port}`),
    });
    await testNginxConfig(options.nginx, files);
    const route = '/api/v1/products?limit=1';
    const nginx = (this.nginx = nginxProcess(options.nginx, files, this.publicUrl, this.reportCrash, route));
    nginx.start();
    options.log(`  nginx: started, pid ${nginx.pid}`);
    await nginx.waitUntilReady();
  }

  private portUses() {
    const { httpPort, statusPort, apiPorts, redisPorts, sentinelPorts } = this.config;
    return [
      { port: httpPort, what: 'NGINX (HTTP_PORT)' },
      { port: statusPort, what: 'NGINX stub_status (NGINX_STATUS_PORT)' },
      ...apiPorts.map((port) => ({ port, what: `API instance (API_PORTS)` })),
      ...redisPorts.map((port) => ({ port, what: `Redis (REDIS_PORTS)` })),
      ...sentinelPorts.map((port) => ({ port, what: `Sentinel (SENTINEL_PORTS)` })),
    ];
  }

  // During start-up the crash also fails start(), which reports it in full: one line here is enough.
  private readonly reportCrash = (err: Error): void => {
    if (this.stopping) return;
    if (this.started)
      this.options.log(`CRASH ${err.message}\n  The rest of the stack keeps running; \`npm run status\` shows it.`);
    else this.options.log(`CRASH ${err.message.split('\n')[0]}`);
  };
}
