import { existsSync } from 'node:fs';
import envSchema from 'env-schema';
import { Type, type TObject, type Static } from '@sinclair/typebox';

/**
 * What the service's config (src/config.ts) and the local stack's (stack/config.ts) share, defined once:
 * the defaults of the contract's variables (.env.example), the schema pieces for ports, the admin-pair rule,
 * and how the environment is read and validated.
 */
export const DEFAULTS = {
  host: '127.0.0.1',
  apiPorts: '3001,3002',
  sentinelPorts: '26379,26380,26381',
  masterName: 'evergreen',
  // The service's KEY_PREFIX, also its Redis user's key pattern (redis/users.conf: ~PREFIX*).
  keyPrefix: 'eg:',
  // The local stack's own.
  stackDir: '.stack',
  httpPort: 8080,
  statusPort: 8081,
  redisPorts: '6379,6380,6381',
  downAfterMs: 5000,
  failoverTimeoutMs: 10_000,
} as const;

export const Port = (def: number) => Type.Integer({ minimum: 1, maximum: 65535, default: def });
export const PortList = (def: string) => Type.String({ pattern: '^\\d+(,\\d+)*$', default: def });

/** The admin created at start: both variables or neither. Returns the problem, if any. */
export function adminPairProblem(username: string | undefined, password: string | undefined): string | undefined {
  return Boolean(username) === Boolean(password) ? undefined : 'ADMIN_USERNAME and ADMIN_PASSWORD must be set together';
}

/** The admin pair as one value, or undefined when neither is set (adminPairProblem refuses one alone). */
export function adminAccount(username: string | undefined, password: string | undefined) {
  return username && password ? { username, password } : undefined;
}

/**
 * The environment validated against `schema`: a .env file (`dotenv`, when given and present) fills gaps without
 * overriding what the environment has, and an empty value (as in a .env copied from .env.example) means unset.
 * A bad value throws `fail(message)`, naming the variable.
 */
export function readEnv<S extends TObject>(
  schema: S,
  source: Record<string, string | undefined>,
  dotenv: string | undefined,
  fail: (message: string) => Error,
): Static<S> {
  if (dotenv && source === process.env && existsSync(dotenv)) process.loadEnvFile(dotenv);
  const data = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  try {
    return envSchema<Static<S>>({ schema, data, env: false, dotenv: false });
  } catch (err) {
    throw fail(`Invalid configuration: ${(err as Error).message.replace(/^env\//, '')}`);
  }
}
