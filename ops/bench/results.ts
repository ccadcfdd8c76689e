import type { CacheOutcome } from './cache-stats.js';
import type { RedisPerRequest } from './commandstats.js';
import type { Measured } from './scenarios.js';
import type { BulkLoaded } from './scale-load.js';
import type { WrkResult } from './wrk.js';
import type { WatchersOutcome } from './watchers.js';

/** What a scenario's run produced: a row of the report, with the mixed and scale scenarios' own figures. */

export interface ScenarioResult extends WrkResult {
  name: string;
  what: string;
  ceiling: string | undefined;
  /** req/s as a share of the ceiling's req/s, measured in the same run. */
  ratio: number | undefined;
  /** Answers outside 2xx that the scenario did not expect. */
  unexpected: number;
  /**
   * Redis commands per completed request in the scenario's window (INFO commandstats on every node), and the API
   * instances' client cache lookups in it; none for ceiling-redis and scale (a bulk load inside its window).
   */
  redis?: RedisPerRequest;
  cache?: CacheOutcome;
  /** The hot product's stock after its run (must be exactly 0), and the 201s (must equal its initial stock). */
  hot?: { stockAfter: number; sold: number; initial: number; watchRetries: number };
  /** mixed: the reads alone and the login storm (the row is the reads under it). */
  mixed?: MixedOutcome;
  /** scale: the bulk load and each scenario at both sizes (the row is catalog-get at scale). */
  scale?: ScaleOutcome;
  /** watchers: the purchases alone, the streams, delivery and memory (the row is the purchases beside them). */
  watchers?: WatchersOutcome;
}

/** The reads alone, and the storm that ran beside the same reads (the result's own figures). */
export interface MixedOutcome {
  alone: Measured;
  logins: Measured;
  loginConnections: number;
}

export interface ScaleOutcome {
  products: BulkLoaded;
  purchases: BulkLoaded;
  /** Each scenario at the seeded size, then at scale. */
  runs: { name: string; seeded: Measured; atScale: Measured }[];
  /** Through NGINX once loaded: the service reads the bulk-loaded hashes and indexes as its own. */
  checks: { what: string; status: number; items: number; bulk: number }[];
}
