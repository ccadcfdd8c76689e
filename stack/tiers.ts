import type { StackConfig } from './config.js';
import type { Credentials } from './helpers/credentials.js';
import type { PortUse } from './helpers/ports.js';
import type { SupervisorEndpoint } from './supervisor/endpoint.js';
import type { Supervised } from './supervisor/supervised.js';
import type { Topology } from './topology/topology.js';

/** What runs now, tier by tier (filled in as they start). */
export interface StackProcesses {
  topology?: Topology;
  apis: Supervised[];
  nginx?: Supervised;
  /** Prometheus, Alertmanager, the alert log and the exporters (stack/monitoring/). */
  monitoring: Supervised[];
  /** The launcher's endpoint: every process's restarts, for Prometheus and `npm run status` (supervisor/tier.ts). */
  supervisor?: SupervisorEndpoint;
}

/** What a tier may use of the stack it belongs to. */
export interface TierHost {
  readonly config: StackConfig;
  readonly credentials: Credentials;
  /** Absolute path of the nginx binary. */
  readonly nginxProgram: string;
  readonly publicUrl: string;
  readonly procs: StackProcesses;
  log(msg: string): void;
  /** A crash, a restart or giving up on a process (a SupervisorReport, from each Supervised's onCrash). */
  reportCrash(report: Error): void;
  /** Every Supervised of the stack so far, whatever its state. */
  supervised(): Supervised[];
  startApi(i: number): Promise<void>;
}

/**
 * One kind of process of the stack (Redis with its Sentinels, the API instances, NGINX, …): the ports it
 * needs, how to start it once the tiers before it are up, how to stop it once the tiers after it are down.
 * A new kind is one file that exports a tier, plus its entry in stack.ts's list.
 */
export interface StackTier {
  /** Each port named with the variable that moves it: all are checked free before anything starts. */
  ports(config: StackConfig): PortUse[];
  /** Starts it and waits until it is ready; resolves with the progress line to print. */
  start(host: TierHost): Promise<string>;
  stop(host: TierHost): Promise<void>;
}
