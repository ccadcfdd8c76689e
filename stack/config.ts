import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { adminAccount, adminPairProblem, DEFAULTS, Port, PortList, readEnv } from '../src/config-defaults.js';
import { repoRoot } from './layout.js';
import { SECRET_VARIABLES, type RedisSecrets } from './helpers/redis-users.js';
import type { LogRotation } from './supervisor/log-file.js';

/**
 * The local stack's only reader of process.env: the contract's variables (.env.example), validated by a
 * schema as src/config.ts does, with the defaults both share (src/config-defaults.ts). A .env beside
 * package.json fills gaps (the real environment wins, as for the service).
 */

// Written into config files: a space, quote or backslash would change their meaning.
const Secret = Type.String({ pattern: '^[^\\s"\'\\\\]+$' });
const Milliseconds = (def: number) => Type.Integer({ minimum: 100, default: def });

/**
 * The local stack's own defaults (the service's are in src/config-defaults.ts). The monitoring ports are the
 * usual ones plus 300: on a host with systemd, installing Debian's packages starts their own services on 9090,
 * 9093, 9121 and 9113.
 */
const STACK_DEFAULTS = {
  prometheusPort: 9390,
  alertmanagerPort: 9393,
  alertLogPort: 9399,
  redisExporterPort: 9421,
  sentinelExporterPort: 9422,
  nginxExporterPort: 9413,
  // The launcher's own endpoint (supervisor/tier.ts): beside the monitoring ports, clear of each.
  supervisorPort: 9398,
  logMaxMb: 10,
  logFiles: 5,
  backupKeep: 7,
};

const StackEnvSchema = Type.Object({
  STACK_DIR: Type.String({ default: DEFAULTS.stackDir }),
  HTTP_PORT: Port(DEFAULTS.httpPort),
  NGINX_STATUS_PORT: Port(DEFAULTS.statusPort),
  API_PORTS: PortList(DEFAULTS.apiPorts),
  REDIS_PORTS: PortList(DEFAULTS.redisPorts),
  SENTINEL_PORTS: PortList(DEFAULTS.sentinelPorts),
  PROMETHEUS_PORT: Port(STACK_DEFAULTS.prometheusPort),
  ALERTMANAGER_PORT: Port(STACK_DEFAULTS.alertmanagerPort),
  ALERT_LOG_PORT: Port(STACK_DEFAULTS.alertLogPort),
  REDIS_EXPORTER_PORT: Port(STACK_DEFAULTS.redisExporterPort),
  SENTINEL_EXPORTER_PORT: Port(STACK_DEFAULTS.sentinelExporterPort),
  NGINX_EXPORTER_PORT: Port(STACK_DEFAULTS.nginxExporterPort),
  SUPERVISOR_PORT: Port(STACK_DEFAULTS.supervisorPort),
  STACK_MONITORING: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  ALERT_WEBHOOK_URL: Type.Optional(Type.String({ pattern: '^https?://\\S+$' })),
  STACK_LOG_MAX_MB: Type.Integer({ minimum: 1, default: STACK_DEFAULTS.logMaxMb }),
  STACK_LOG_FILES: Type.Integer({ minimum: 1, maximum: 100, default: STACK_DEFAULTS.logFiles }),
  BACKUP_KEEP: Type.Integer({ minimum: 1, default: STACK_DEFAULTS.backupKeep }),
  // Compose's own variable: which project `npm run backup -- --compose` and `restore -- --compose` mean.
  COMPOSE_PROJECT_NAME: Type.Optional(Type.String()),
  REDIS_MASTER_NAME: Type.String({ default: DEFAULTS.masterName, minLength: 1 }),
  SENTINEL_DOWN_AFTER_MS: Milliseconds(DEFAULTS.downAfterMs),
  SENTINEL_FAILOVER_TIMEOUT_MS: Milliseconds(DEFAULTS.failoverTimeoutMs),
  // The passwords of the Redis users and the Sentinels (stack/helpers/redis-users.ts); unset ones are generated.
  ...Object.fromEntries(Object.values(SECRET_VARIABLES).map((name) => [name, Type.Optional(Secret)])),
  KEY_PREFIX: Type.String({ default: DEFAULTS.keyPrefix, pattern: '^[A-Za-z0-9:._-]{1,64}$' }),
  ADMIN_USERNAME: Type.Optional(Type.String()),
  ADMIN_PASSWORD: Type.Optional(Type.String()),
  JWT_SECRET: Type.Optional(Type.String()),
});

type StackEnv = Static<typeof StackEnvSchema>;

export interface StackConfig {
  /** Absolute state folder: data, logs, rendered configs, the running stack's record (layout.ts). */
  dir: string;
  host: string;
  httpPort: number;
  /** NGINX's stub_status, for the exporter; never public. */
  statusPort: number;
  apiPorts: number[];
  /** The first is the initial master. */
  redisPorts: number[];
  sentinelPorts: number[];
  /**
   * The launcher's endpoint (GET /metrics, GET /status: every process's restarts), with or without monitoring.
   * A throwaway stack's config (temporary.ts) leaves it out: a free port is taken when the stack starts.
   */
  supervisorPort?: number;
  /** Prometheus, Alertmanager, the exporters and the alert log; off in most tests (they start faster without). */
  monitoring: MonitoringConfig | undefined;
  /** How big each process's log grows before it rotates, and how many rotated files are kept. */
  logRotation: LogRotation;
  /** How many archives `npm run backup` keeps in its folder (the newest). */
  backupKeep: number;
  /** COMPOSE_PROJECT_NAME, as Compose reads it: the project backup and restore --compose mean by default. */
  composeProjectName?: string;
  masterName: string;
  /** How long a silent master has before the Sentinels call it down (failover drills may shorten it). */
  downAfterMs: number;
  /** Sentinel's failover-timeout: a failover that stalls is abandoned after it, and retried after twice that. */
  failoverTimeoutMs: number;
  /** Set in the environment (or .env); the others are generated once (credentials.ts). */
  redisSecrets: Partial<RedisSecrets>;
  /** The API instances' KEY_PREFIX: their Redis user may touch only keys that start with it. */
  keyPrefix: string;
  /** Unset: generated once into the state folder (see credentials.ts). */
  admin: { username: string; password: string } | undefined;
  jwtSecret: string | undefined;
  /** The built dist/ (npm start), or the TypeScript source through tsx (tests: no build step). */
  apiRunner: 'dist' | 'source';
  /** More environment for the API instances; the stack's own settings win. */
  apiEnv: Record<string, string>;
  /** NGINX locations a benchmark adds to the public server (its ceiling's trivial route); none otherwise. */
  nginxExtraLocations?: string;
  /** Node inspector ports, one per API instance (a benchmark's CPU profiles); none in any real deployment. */
  apiInspectPorts?: number[];
}

export interface MonitoringConfig {
  prometheusPort: number;
  alertmanagerPort: number;
  /** The stack's own webhook receiver: every notification as a line of alert-log/alerts.log. */
  alertLogPort: number;
  /** One redis_exporter for the nodes and one for the Sentinels (as their read-only user `exporter`), multi-target. */
  redisExporterPort: number;
  sentinelExporterPort: number;
  nginxExporterPort: number;
  /** Where Alertmanager sends notifications: the alert log unless ALERT_WEBHOOK_URL says otherwise. */
  webhookUrl: string | undefined;
}

export class StackConfigError extends Error {
  override name = 'StackConfigError';
}

export function loadStackConfig(source: Record<string, string | undefined> = process.env): StackConfig {
  // The children inherit what .env added to the environment.
  const dotenv = path.join(repoRoot, '.env');
  const env: StackEnv = readEnv(StackEnvSchema, source, dotenv, (message) => new StackConfigError(message));
  const adminProblem = adminPairProblem(env.ADMIN_USERNAME, env.ADMIN_PASSWORD);
  if (adminProblem) throw new StackConfigError(adminProblem);
  const apiPorts = portList('API_PORTS', env.API_PORTS);
  // nginx/nginx.conf has one upstream server line per instance.
  if (apiPorts.length !== 2) {
    throw new StackConfigError(`API_PORTS must list exactly 2 ports (one per API instance), got ${apiPorts.join(',')}`);
  }
  const redisPorts = portList('REDIS_PORTS', env.REDIS_PORTS);
  // min-replicas-to-write 1 (redis/redis.conf): a master alone refuses writes.
  if (redisPorts.length < 2) {
    throw new StackConfigError('REDIS_PORTS must list at least 2 ports: a master and a replica');
  }
  return {
    dir: path.resolve(repoRoot, env.STACK_DIR),
    host: DEFAULTS.host,
    httpPort: env.HTTP_PORT,
    statusPort: env.NGINX_STATUS_PORT,
    apiPorts,
    redisPorts,
    sentinelPorts: portList('SENTINEL_PORTS', env.SENTINEL_PORTS),
    supervisorPort: env.SUPERVISOR_PORT,
    monitoring:
      env.STACK_MONITORING === 'off'
        ? undefined
        : {
            prometheusPort: env.PROMETHEUS_PORT,
            alertmanagerPort: env.ALERTMANAGER_PORT,
            alertLogPort: env.ALERT_LOG_PORT,
            redisExporterPort: env.REDIS_EXPORTER_PORT,
            sentinelExporterPort: env.SENTINEL_EXPORTER_PORT,
            nginxExporterPort: env.NGINX_EXPORTER_PORT,
            webhookUrl: env.ALERT_WEBHOOK_URL,
          },
    logRotation: { maxBytes: env.STACK_LOG_MAX_MB * 1024 * 1024, keep: env.STACK_LOG_FILES },
    backupKeep: env.BACKUP_KEEP,
    composeProjectName: env.COMPOSE_PROJECT_NAME,
    masterName: env.REDIS_MASTER_NAME,
    downAfterMs: env.SENTINEL_DOWN_AFTER_MS,
    failoverTimeoutMs: env.SENTINEL_FAILOVER_TIMEOUT_MS,
    redisSecrets: Object.fromEntries(
      (Object.entries(SECRET_VARIABLES) as [keyof RedisSecrets, string][]).flatMap(([key, name]) => {
        const value = (env as Record<string, unknown>)[name];
        return typeof value === 'string' ? [[key, value]] : [];
      }),
    ),
    keyPrefix: env.KEY_PREFIX,
    admin: adminAccount(env.ADMIN_USERNAME, env.ADMIN_PASSWORD),
    jwtSecret: env.JWT_SECRET,
    apiRunner: 'dist',
    apiEnv: {},
  };
}

/** A comma-separated list the schema let through, every item a port (1-65535). */
function portList(name: string, value: string): number[] {
  return value.split(',').map((item) => {
    const port = Number(item);
    if (port < 1 || port > 65535) throw new StackConfigError(`${name}: "${item}" is not a port (1-65535)`);
    return port;
  });
}
