import type { Test } from 'tap';
import type { JsonBody } from '../../stack/helpers/http.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp, type App } from '../../src/app.js';
import { REDIS_USERS } from '../../stack/helpers/redis-users.js';
import type { TestTopology } from './topology.js';

export const ADMIN = { username: 'root-admin', password: 'admin-password-1' };

/** The config an app under test gets: the test topology's Sentinels, fast bcrypt, a quiet logger. */
export function testConfig(topo: TestTopology, env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      NODE_ENV: 'test',
      SENTINELS: topo.topology.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      REDIS_USERNAME: REDIS_USERS.service,
      REDIS_PASSWORD: topo.secrets.service,
      // The service's own user on the Sentinels too, as the stack and Compose run it.
      SENTINEL_USERNAME: REDIS_USERS.service,
      SENTINEL_PASSWORD: topo.secrets.service,
      BCRYPT_COST: '4',
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'silent',
      ...env,
    },
    false,
  );
}

/** An app instance on the topology, closed on teardown. Two calls make two instances sharing one Redis. */
export async function startApp(t: Test, topo: TestTopology, env: Record<string, string> = {}): Promise<App> {
  const app = await buildApp(testConfig(topo, env));
  t.teardown(() => app.close());
  await app.ready();
  return app;
}

/** A client address of its own per user, so that tests logging in many users stay under the per-IP login limit. */
const addressOf = (username: string) =>
  `10.9.${username.length % 250}.${[...username].reduce((sum, c) => (sum * 31 + c.charCodeAt(0)) % 250, 7)}`;

/** Registers (if needed) and logs in; returns the bearer header and the user. */
export async function login(
  app: App,
  username: string,
  password = 'correct-horse-9',
): Promise<{ auth: { authorization: string }; id: string; token: string }> {
  await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { username, password } });
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
    remoteAddress: addressOf(username),
  });
  if (res.statusCode !== 200) throw new Error(`login of ${username} failed: ${res.statusCode} ${res.body}`);
  const body = res.json() as { token: string; user: { id: string } };
  return { auth: { authorization: `Bearer ${body.token}` }, id: body.user.id, token: body.token };
}

export const loginAdmin = (app: App) => login(app, ADMIN.username, ADMIN.password);

/** Creates a product as the admin and returns its id. */
export async function createProduct(
  app: App,
  admin: { authorization: string },
  fields: { name?: string; priceCents?: number; stock: number },
): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/products',
    headers: admin,
    payload: { name: fields.name ?? 'Widget', priceCents: fields.priceCents ?? 1299, stock: fields.stock },
  });
  if (res.statusCode !== 201) throw new Error(`product creation failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}

export interface Call {
  status: number;
  body: JsonBody;
  headers: Record<string, string | string[] | number | undefined>;
}

/** One request through the whole Fastify stack (routing, hooks, validation, serialization) without a socket. */
export async function call(
  app: App,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  options: { auth?: { authorization: string }; body?: unknown; headers?: Record<string, string>; ip?: string } = {},
): Promise<Call> {
  const res = await app.inject({
    method,
    url,
    remoteAddress: options.ip ?? '127.0.0.1',
    headers: { ...options.auth, ...options.headers },
    ...(options.body === undefined ? {} : { payload: options.body as object }),
  });
  return { status: res.statusCode, body: res.body ? res.json() : undefined, headers: res.headers };
}

/** The contract's error shape with the expected status and code. */
export function assertError(t: Test, res: Call, status: number, code: string): void {
  t.equal(res.status, status, `status ${status} (${code})`);
  t.match(
    res.body,
    { statusCode: status, code, error: String, message: String },
    `error body is the contract's shape with code ${code}`,
  );
  t.notMatch(JSON.stringify(res.body), /stack|Error:|ReplyError|at \w+ \(/, 'no internals leak');
}
