import { Type, type Static } from '@sinclair/typebox';
import { adminAccount, adminPairProblem, DEFAULTS, Port, PortList, readEnv } from './config-defaults.js';
import { MAX_PASSWORD_BYTES } from './schemas/users.js';

/** The only place that reads process.env: everything else receives a typed Config. */

const DEV_JWT_SECRET = 'evergreen-dev-secret-change-me-0123456789';

/**
 * The settings that may also be given as `X_FILE`, the path of a file holding the value (readEnv): the secrets,
 * because Docker secrets (e.g. on Swarm) arrive as files under /run/secrets/, not as variables. Only these: the
 * other settings are not secret and stay plain variables.
 */
export const SECRET_FILE_SETTINGS = ['JWT_SECRET', 'REDIS_PASSWORD', 'SENTINEL_PASSWORD', 'ADMIN_PASSWORD'] as const;

const PositiveInt = (def: number, max = 2 ** 31) => Type.Integer({ minimum: 1, maximum: max, default: def });

export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  HOST: Type.String({ default: DEFAULTS.host }),
  PORT: Type.Optional(Port(3001)),
  API_PORTS: PortList(DEFAULTS.apiPorts),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    {
      default: 'info',
    },
  ),
  TRUST_PROXY: Type.String({ default: 'loopback' }),
  // Exact origins (scheme://host[:port]) allowed to call the API from a browser; unset, no CORS at all.
  CORS_ORIGINS: Type.Optional(Type.String({ pattern: '^https?://[^\\s,/]+(,https?://[^\\s,/]+)*$' })),

  SENTINELS: Type.Optional(Type.String({ pattern: '^[^,:\\s]+:\\d+(,[^,:\\s]+:\\d+)*$' })),
  SENTINEL_HOST: Type.String({ default: DEFAULTS.host }),
  SENTINEL_PORTS: PortList(DEFAULTS.sentinelPorts),
  REDIS_MASTER_NAME: Type.String({ default: DEFAULTS.masterName, minLength: 1 }),
  REDIS_USERNAME: Type.Optional(Type.String({ pattern: '^[^\\s]+$' })),
  REDIS_PASSWORD: Type.Optional(Type.String()),
  SENTINEL_USERNAME: Type.Optional(Type.String()),
  SENTINEL_PASSWORD: Type.Optional(Type.String()),
  // Also the service's Redis user's key pattern (~PREFIX*): no glob characters.
  KEY_PREFIX: Type.String({ default: DEFAULTS.keyPrefix, pattern: '^[A-Za-z0-9:._-]{1,64}$' }),
  REDIS_COMMAND_TIMEOUT_MS: PositiveInt(1500),
  REDIS_SOCKET_TIMEOUT_MS: PositiveInt(2000),
  REDIS_CONNECT_TIMEOUT_MS: PositiveInt(1000),
  REDIS_READY_TIMEOUT_MS: PositiveInt(30000),
  TX_POOL_SIZE: PositiveInt(8, 256),
  // A replica further behind the master than this (or not answering) gets no catalog reads until it catches up.
  // Lag is sampled every 250 ms: a smaller threshold could not be told apart from no lag.
  REPLICA_MAX_LAG_MS: Type.Integer({ minimum: 250, maximum: 600_000, default: 1000 }),

  JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  JWT_EXPIRES_IN_SECONDS: PositiveInt(3600),
  BCRYPT_COST: Type.Integer({ minimum: 4, maximum: 15, default: 10 }),
  BCRYPT_THREADS: PositiveInt(1, 64),
  BCRYPT_MAX_WAIT_MS: PositiveInt(1000, 60000),
  ADMIN_USERNAME: Type.Optional(Type.String({ minLength: 3, maxLength: 32 })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8, maxLength: 72 })),

  RATE_LIMIT_MAX: PositiveInt(600),
  LOGIN_RATE_LIMIT_MAX: PositiveInt(10),
  RATE_LIMIT_WINDOW_MS: PositiveInt(60000),
  RATE_LIMIT_SYNC_MS: PositiveInt(50, 10000),

  // The client-side cache of products, catalog pages and token checks (Redis CLIENT TRACKING keeps it exact).
  CLIENT_CACHE: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'on' }),
  CLIENT_CACHE_MAX_ENTRIES: PositiveInt(100_000),
  CLIENT_CACHE_MAX_BYTES: PositiveInt(64 * 1024 * 1024),

  // Live stock (server-sent events): streams per instance, the comment heartbeat, a slow client's unsent bytes
  // before it is dropped, and the stock events kept in Redis for clients that resume (about).
  SSE_MAX_CLIENTS: PositiveInt(10000),
  SSE_HEARTBEAT_MS: PositiveInt(15000, 3_600_000),
  SSE_MAX_BUFFER_BYTES: PositiveInt(65536),
  STOCK_EVENTS_MAXLEN: PositiveInt(100_000),

  IDEMPOTENCY_TTL_SECONDS: PositiveInt(86400),
  IDEMPOTENCY_LOCK_MS: PositiveInt(10000),
  PURCHASE_MAX_RETRIES: PositiveInt(100, 10000),
  // How long after a purchase its owner may cancel it (admins: any time).
  CANCEL_WINDOW_SECONDS: PositiveInt(1800),
  WAIT_REPLICAS: Type.Integer({ minimum: 0, maximum: 16, default: 1 }),
  WAIT_TIMEOUT_MS: PositiveInt(500),
  BODY_LIMIT_BYTES: PositiveInt(16384),
  // On SIGTERM, keep serving this long before closing: a proxy that learns of the stop from DNS (NGINX on Swarm
  // re-reads it every second) stops sending first, so no request meets a closing connection. 0: close at once.
  SHUTDOWN_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60000, default: 0 }),
});

type Env = Static<typeof EnvSchema>;

export interface HostPort {
  host: string;
  port: number;
}

export interface Config {
  env: Env['NODE_ENV'];
  host: string;
  port: number;
  logLevel: Env['LOG_LEVEL'];
  trustProxy: string;
  bodyLimit: number;
  /** How long the server keeps serving after SIGTERM before it closes. */
  shutdownDelayMs: number;
  /** Origins that get CORS headers; empty: CORS is off. */
  corsOrigins: string[];
  redis: {
    sentinels: HostPort[];
    masterName: string;
    /** The service's ACL user on the Redis nodes; unset: the default user. */
    username: string | undefined;
    password: string | undefined;
    sentinelUsername: string | undefined;
    sentinelPassword: string | undefined;
    keyPrefix: string;
    commandTimeoutMs: number;
    socketTimeoutMs: number;
    connectTimeoutMs: number;
    readyTimeoutMs: number;
    txPoolSize: number;
    /** Catalog reads skip a replica lagging by more than this (redis/replica-lag.ts). */
    replicaMaxLagMs: number;
  };
  auth: {
    jwtSecret: string;
    jwtExpiresInSeconds: number;
    passwords: { cost: number; threads: number; maxWaitMs: number };
    admin: { username: string; password: string } | undefined;
  };
  rateLimit: { max: number; loginMax: number; windowMs: number; syncMs: number };
  /** The client-side cache: off, nothing is tracked or cached; bounded in entries and estimated bytes (LRU). */
  cache: { enabled: boolean; maxEntries: number; maxBytes: number };
  live: { maxClients: number; heartbeatMs: number; maxBufferBytes: number; eventsMaxLen: number };
  purchases: {
    idempotencyTtlSeconds: number;
    idempotencyLockMs: number;
    maxRetries: number;
    waitReplicas: number;
    waitTimeoutMs: number;
    cancelWindowSeconds: number;
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseHostPorts(list: string): HostPort[] {
  return list.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
  });
}

/**
 * Validates the environment (a .env file may fill gaps; the real environment wins; SECRET_FILE_SETTINGS may come
 * from files) and shapes it.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env, dotenv = true): Config {
  const env: Env = readEnv(
    EnvSchema,
    source,
    dotenv ? '.env' : undefined,
    (message) => new ConfigError(message),
    SECRET_FILE_SETTINGS,
  );
  if (env.NODE_ENV === 'production' && (!env.JWT_SECRET || env.JWT_SECRET === DEV_JWT_SECRET)) {
    throw new ConfigError(
      'Invalid configuration: JWT_SECRET must be set to a secret of 32+ characters when NODE_ENV=production',
    );
  }
  const adminProblem = adminPairProblem(env.ADMIN_USERNAME, env.ADMIN_PASSWORD);
  if (adminProblem) throw new ConfigError(`Invalid configuration: ${adminProblem}`);
  if (env.ADMIN_PASSWORD && Buffer.byteLength(env.ADMIN_PASSWORD) > MAX_PASSWORD_BYTES) {
    throw new ConfigError(`Invalid configuration: ADMIN_PASSWORD must be at most ${MAX_PASSWORD_BYTES} bytes in UTF-8`);
  }
  const sentinels = env.SENTINELS
    ? parseHostPorts(env.SENTINELS)
    : env.SENTINEL_PORTS.split(',').map((p) => ({ host: env.SENTINEL_HOST, port: Number(p) }));

  return {
    env: env.NODE_ENV,
    host: env.HOST,
    port: env.PORT ?? Number(env.API_PORTS.split(',')[0]),
    logLevel: env.LOG_LEVEL,
    trustProxy: env.TRUST_PROXY,
    bodyLimit: env.BODY_LIMIT_BYTES,
    shutdownDelayMs: env.SHUTDOWN_DELAY_MS,
    // A browser sends its Origin in lower case.
    corsOrigins: env.CORS_ORIGINS?.toLowerCase().split(',') ?? [],
    redis: {
      sentinels,
      masterName: env.REDIS_MASTER_NAME,
      username: env.REDIS_USERNAME || undefined,
      password: env.REDIS_PASSWORD || undefined,
      sentinelUsername: env.SENTINEL_USERNAME || undefined,
      sentinelPassword: env.SENTINEL_PASSWORD || undefined,
      keyPrefix: env.KEY_PREFIX,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
      socketTimeoutMs: env.REDIS_SOCKET_TIMEOUT_MS,
      connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
      readyTimeoutMs: env.REDIS_READY_TIMEOUT_MS,
      txPoolSize: env.TX_POOL_SIZE,
      replicaMaxLagMs: env.REPLICA_MAX_LAG_MS,
    },
    auth: {
      jwtSecret: env.JWT_SECRET ?? DEV_JWT_SECRET,
      jwtExpiresInSeconds: env.JWT_EXPIRES_IN_SECONDS,
      passwords: { cost: env.BCRYPT_COST, threads: env.BCRYPT_THREADS, maxWaitMs: env.BCRYPT_MAX_WAIT_MS },
      admin: adminAccount(env.ADMIN_USERNAME, env.ADMIN_PASSWORD),
    },
    rateLimit: {
      max: env.RATE_LIMIT_MAX,
      loginMax: env.LOGIN_RATE_LIMIT_MAX,
      windowMs: env.RATE_LIMIT_WINDOW_MS,
      syncMs: env.RATE_LIMIT_SYNC_MS,
    },
    cache: {
      enabled: env.CLIENT_CACHE === 'on',
      maxEntries: env.CLIENT_CACHE_MAX_ENTRIES,
      maxBytes: env.CLIENT_CACHE_MAX_BYTES,
    },
    live: {
      maxClients: env.SSE_MAX_CLIENTS,
      heartbeatMs: env.SSE_HEARTBEAT_MS,
      maxBufferBytes: env.SSE_MAX_BUFFER_BYTES,
      eventsMaxLen: env.STOCK_EVENTS_MAXLEN,
    },
    purchases: {
      idempotencyTtlSeconds: env.IDEMPOTENCY_TTL_SECONDS,
      idempotencyLockMs: env.IDEMPOTENCY_LOCK_MS,
      maxRetries: env.PURCHASE_MAX_RETRIES,
      waitReplicas: env.WAIT_REPLICAS,
      waitTimeoutMs: env.WAIT_TIMEOUT_MS,
      cancelWindowSeconds: env.CANCEL_WINDOW_SECONDS,
    },
  };
}
