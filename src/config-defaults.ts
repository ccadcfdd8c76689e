import { existsSync, readFileSync } from 'node:fs';
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

/** Unset, as readEnv has it: an empty value (as in a .env copied from .env.example) means unset. */
const isUnset = (value: string | undefined): value is undefined | '' => value === undefined || value === '';

/**
 * `source` with each of `names` that has `NAME_FILE` set read from that file (the Docker convention: Docker
 * secrets arrive as files under /run/secrets/). The value is the file's content with one trailing newline (`\n` or
 * `\r\n`, as `echo` leaves) removed, nothing else trimmed; an empty file is an empty value, so unset. Both `NAME`
 * and `NAME_FILE` set, or a file that cannot be read, throws `fail(message)` naming the variable and the path,
 * never the content.
 */
export function withSecretFiles(
  source: Record<string, string | undefined>,
  names: readonly string[],
  fail: (message: string) => Error,
): Record<string, string | undefined> {
  const resolved = { ...source };
  for (const name of names) {
    const fileVariable = `${name}_FILE`;
    const file = source[fileVariable];
    if (isUnset(file)) continue;
    if (!isUnset(source[name])) {
      throw fail(`Invalid configuration: ${name} and ${fileVariable} are both set; set only one of them`);
    }
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
      throw fail(`Invalid configuration: ${fileVariable} is ${file}, which cannot be read (${reason})`);
    }
    resolved[name] = content.replace(/\r?\n$/, '');
  }
  return resolved;
}

/**
 * The environment validated against `schema`: a .env file (`dotenv`, when given and present) fills gaps without
 * overriding what the environment has, and an empty value (as in a .env copied from .env.example) means unset.
 * Each of `secretFiles` may come from a file instead, named by `NAME_FILE` (withSecretFiles); the value read is
 * validated as if set directly. Other variables (`*_FILE` ones included) that the schema does not name are
 * dropped, not refused: env-schema sets additionalProperties false and its Ajv removes additional properties.
 * A bad value throws `fail(message)`, naming the variable.
 */
export function readEnv<S extends TObject>(
  schema: S,
  source: Record<string, string | undefined>,
  dotenv: string | undefined,
  fail: (message: string) => Error,
  secretFiles: readonly string[] = [],
): Static<S> {
  if (dotenv && source === process.env && existsSync(dotenv)) process.loadEnvFile(dotenv);
  const resolved = withSecretFiles(source, secretFiles, fail);
  const data = Object.fromEntries(Object.entries(resolved).filter(([, value]) => !isUnset(value)));
  try {
    return envSchema<Static<S>>({ schema, data, env: false, dotenv: false });
  } catch (err) {
    throw fail(`Invalid configuration: ${(err as Error).message.replace(/^env\//, '')}`);
  }
}
