import { mkdir } from 'node:fs/promises';
import type { StackConfig } from './config.js';
import { resolveCredentials, type Credentials } from './helpers/credentials.js';
import { assertPortsFree } from './helpers/ports.js';
import { monitoringTier } from './monitoring/tier.js';
import { apiTier } from './processes/api.js';
import { nginxTier } from './processes/nginx.js';
import { SupervisorReport } from './supervisor/report.js';
import type { Supervised } from './supervisor/supervised.js';
import { supervisorTier } from './supervisor/tier.js';
import type { StackProcesses, StackTier, TierHost } from './tiers.js';
import { redisTier } from './topology/tier.js';
import type { Topology } from './topology/topology.js';

/** Every kind of process of the stack, in start order (stopped in the reverse one); the supervisor's endpoint first. */
const TIERS: StackTier[] = [supervisorTier, redisTier, apiTier, nginxTier, monitoringTier];

export interface StackOptions {
  /** Absolute path of the nginx binary (packages.ts finds it). */
  nginx: string;
  /** Progress lines and crash reports. */
  log: (msg: string) => void;
}

/** The whole local topology as child processes on loopback: each tier of TIERS, started in order. */
export class LocalStack implements TierHost {
  readonly procs: StackProcesses = { apis: [], monitoring: [] };
  private resolvedCredentials: Credentials | undefined;
  private startup: Promise<void> | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly config: StackConfig,
    private readonly options: StackOptions,
  ) {}

  get topology(): Topology | undefined {
    return this.procs.topology;
  }

  get apis(): Supervised[] {
    return this.procs.apis;
  }

  get nginx(): Supervised | undefined {
    return this.procs.nginx;
  }

  get nginxProgram(): string {
    return this.options.nginx;
  }

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

  log(msg: string): void {
    this.options.log(msg);
  }

  /** Every process of the stack: its name, pid while it runs, and log. */
  processes(): { name: string; pid: number | undefined; log: string }[] {
    return this.supervised().map((c) => ({ name: c.spec.name, pid: c.pid, log: c.spec.log }));
  }

  /** Every Supervised of the stack so far (Redis nodes, Sentinels, API instances, NGINX, monitoring), up or down. */
  supervised(): Supervised[] {
    const own = [...this.apis, ...(this.nginx ? [this.nginx] : []), ...this.procs.monitoring];
    return [...(this.topology?.supervised() ?? []), ...own];
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
    this.log(`  ${api.spec.name}: started, pid ${api.pid}`);
    await api.waitUntilReady();
  }

  /**
   * Stops everything, newest tier first; idempotent. During start-up, the step in flight (each is bounded)
   * finishes first and the next one is not begun.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.startup?.catch(() => {}); // start() reports its own failure
      for (const tier of [...TIERS].reverse()) await tier.stop(this);
    })();
    return this.stopping;
  }

  private async startInOrder(): Promise<void> {
    const { config } = this;
    const step = async (what: string, work: () => Promise<string | void>): Promise<void> => {
      if (this.stopping) throw new Error(`stopped while starting (before: ${what})`);
      const started = Date.now();
      const done = (await work()) ?? what;
      this.log(`${done} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    };
    await mkdir(config.dir, { recursive: true, mode: 0o700 });
    const ports = TIERS.flatMap((tier) => tier.ports(config));
    await step('every port is free', () => assertPortsFree(config.host, ports));
    this.resolvedCredentials = await resolveCredentials(config);
    for (const [i, tier] of TIERS.entries()) await step(`tier ${i + 1} of ${TIERS.length}`, () => tier.start(this));
  }

  /**
   * Each Supervised's reports: a crash (and when it is restarted), the restart, giving up. During start-up a process
   * down for good also fails start(), which reports it in full: one line here is enough.
   */
  readonly reportCrash = (report: Error): void => {
    if (this.stopping) return;
    const kind = report instanceof SupervisorReport ? report.kind : 'crash';
    const restarting = report instanceof SupervisorReport && report.restartInMs !== undefined;
    const prefix = kind === 'crash' ? 'CRASH ' : '';
    if (kind === 'restart') this.log(report.message);
    else if (!this.started) this.log(`${prefix}${report.message.split('\n')[0]}`);
    else if (restarting) this.log(`${prefix}${report.message}`);
    else this.log(`${prefix}${report.message}\n  The rest of the stack keeps running; \`npm run status\` shows it.`);
  };
}
