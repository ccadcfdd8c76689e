import { createHash, randomBytes } from 'node:crypto';

/**
 * The secrets of a Redis topology: one password per ACL user of the nodes (redis/users.conf) and the
 * Sentinels' own (sentinel/sentinel.conf). Every launcher (the local stack, the tests, the drill, the
 * benchmarks) passes them around as one value; Compose reads the same ones from .env.
 */
export interface RedisSecrets {
  /** User `evergreen` on the nodes: the API instances. REDIS_PASSWORD. */
  service: string;
  /** User `replication`: replicas syncing from the master. REDIS_REPLICATION_PASSWORD. */
  replication: string;
  /** User `sentinel` on the nodes: the Sentinels. REDIS_SENTINEL_PASSWORD. */
  sentinel: string;
  /** User `exporter` on the nodes and on the Sentinels: read-only figures. REDIS_EXPORTER_PASSWORD. */
  exporter: string;
  /** User `admin` on the nodes: operators' tools. REDIS_ADMIN_PASSWORD. */
  admin: string;
  /** The Sentinels' requirepass (their default user), for clients and peer Sentinels. SENTINEL_PASSWORD. */
  sentinels: string;
}

/** The environment variable of each secret: .env.example, compose.yml and the stack read the same names. */
export const SECRET_VARIABLES: Record<keyof RedisSecrets, string> = {
  service: 'REDIS_PASSWORD',
  replication: 'REDIS_REPLICATION_PASSWORD',
  sentinel: 'REDIS_SENTINEL_PASSWORD',
  exporter: 'REDIS_EXPORTER_PASSWORD',
  admin: 'REDIS_ADMIN_PASSWORD',
  sentinels: 'SENTINEL_PASSWORD',
};

/** The ACL user names of redis/users.conf. */
export const REDIS_USERS = {
  service: 'evergreen',
  replication: 'replication',
  sentinel: 'sentinel',
  exporter: 'exporter',
  admin: 'admin',
} as const;

/** How a client authenticates: an ACL user, or the default user (a Sentinel's requirepass) when no username. */
export interface RedisAuth {
  username?: string;
  password: string;
}

/** The operators' user on the nodes. */
export const adminAuth = (s: RedisSecrets): RedisAuth => ({ username: REDIS_USERS.admin, password: s.admin });
/** The Sentinels' default user. */
export const sentinelAuth = (s: RedisSecrets): RedisAuth => ({ password: s.sentinels });

/** Fresh random secrets (hex: safe in every config file and URL). */
export function generateRedisSecrets(): RedisSecrets {
  const secret = () => randomBytes(16).toString('hex');
  return {
    service: secret(),
    replication: secret(),
    sentinel: secret(),
    exporter: secret(),
    admin: secret(),
    sentinels: secret(),
  };
}

/** Written into config files unquoted or in double quotes: a space, quote or backslash would change their meaning. */
export function secretProblem(name: string, value: string): string | undefined {
  return /^[^\s"'\\]+$/.test(value) ? undefined : `${name} must be non-empty, without spaces, quotes or backslashes`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The ${NAME}s of redis/users.conf (docker/redis-node.sh computes the same ones with sha256sum). */
export function usersTemplateVars(s: RedisSecrets, keyPrefix: string): Record<string, string> {
  return {
    KEY_PREFIX: keyPrefix,
    SERVICE_PASSWORD_SHA256: sha256(s.service),
    REPLICATION_PASSWORD_SHA256: sha256(s.replication),
    SENTINEL_PASSWORD_SHA256: sha256(s.sentinel),
    EXPORTER_PASSWORD_SHA256: sha256(s.exporter),
    ADMIN_PASSWORD_SHA256: sha256(s.admin),
    REPLICATION_PASSWORD: s.replication,
  };
}

/** The secrets as the environment variables that carry them (compose.yml's .env, the stack's environment). */
export function secretsEnv(s: RedisSecrets): Record<string, string> {
  return Object.fromEntries(
    (Object.entries(SECRET_VARIABLES) as [keyof RedisSecrets, string][]).map(([k, n]) => [n, s[k]]),
  );
}
