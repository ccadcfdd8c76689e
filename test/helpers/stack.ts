import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import type { StackConfig } from '../../stack/config.js';
import { nginxChild, renderNginxConfig, testNginxConfig, type NginxFiles } from '../../stack/nginx.js';
import { findProgram } from '../../stack/packages.js';
import { LocalStack } from '../../stack/stack.js';
import { temporaryStackConfig } from '../../stack/temporary.js';
import { expectStatus, waitFor } from '../../stack/wait.js';
import { freePorts } from './topology.js';

/** Helpers for the tests of the local stack (stack/) and of its NGINX (nginx/nginx.conf). */

export const STACK_ADMIN = { username: 'stack-admin', password: 'stack-admin-password-1' };

/** The stacks started from each test config's dir, stopped on that test's teardown. */
const stacksOf = new Map<string, LocalStack[]>();

/**
 * A stack config on free ports in a temp dir (so a developer's running stack never collides), with
 * secrets of its own. On teardown every stack started from it is stopped, then the dir is removed
 * (kept, with its logs, when the test failed).
 */
export async function testStackConfig(t: Test): Promise<StackConfig> {
  const config = await temporaryStackConfig('stack', {
    downAfterMs: 1000,
    failoverTimeoutMs: 3000,
    admin: STACK_ADMIN,
    apiRunner: 'source',
    // info: every request is in the instance's log; limits high enough for a stream of requests.
    apiEnv: { NODE_ENV: 'test', LOG_LEVEL: 'info', BCRYPT_COST: '4', RATE_LIMIT_MAX: '100000', LOGIN_RATE_LIMIT_MAX: '1000' },
  });
  const started: LocalStack[] = [];
  stacksOf.set(config.dir, started);
  t.teardown(async () => {
    await Promise.all(started.map((stack) => stack.stop()));
    if (t.passing()) await rm(config.dir, { recursive: true, force: true });
    else t.comment(`kept the stack's state and logs in ${config.dir}`);
  });
  return config;
}

/** Starts a stack from a config made by testStackConfig; its progress lines become comments. */
export async function startTestStack(t: Test, config: StackConfig): Promise<LocalStack> {
  const nginx = await findProgram('nginx');
  if (!nginx) throw new Error('nginx is not installed (npm start installs it)');
  const stack = new LocalStack(config, { nginx, log: (msg) => t.comment(msg) });
  stacksOf.get(config.dir)?.push(stack);
  const startingAt = Date.now();
  await stack.start();
  t.comment(`stack up in ${Date.now() - startingAt} ms`);
  return stack;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any; // the JSON of whichever route was called
}

/** One JSON request to base + path. */
export async function call(base: string, method: string, url: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export interface FakeUpstream {
  address: string;
  /** Every request it received, in order. */
  seen: { method: string; url: string; headers: IncomingHttpHeaders }[];
}

/**
 * A stand-in API instance for NGINX tests: answers 200 with JSON, unless the request's x-fake header
 * says `hang` (never answers, like a paused instance) or `drop` (closes the connection unanswered).
 */
export async function fakeUpstream(t: Test): Promise<FakeUpstream> {
  const seen: FakeUpstream['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      if (req.headers['x-fake'] === 'hang') return;
      if (req.headers['x-fake'] === 'drop') return req.socket.destroy();
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-request-id', String(req.headers['x-request-id']));
      res.end(JSON.stringify({ upstream: address }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => new Promise((resolve) => {
    server.close(resolve);
    server.closeAllConnections(); // NGINX's keepalive connections
  }));
  return { address, seen };
}

/** NGINX from nginx/nginx.conf on free ports in front of the given upstreams; stopped on teardown. */
export async function startTestNginx(t: Test, upstreams: string[]): Promise<{ base: string; statusBase: string; files: NginxFiles }> {
  const nginx = await findProgram('nginx');
  if (!nginx) throw new Error('nginx is not installed (npm start installs it)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'evergreen-nginx-'));
  const [httpPort, statusPort] = await freePorts(2);
  const files = await renderNginxConfig({ dir, host: '127.0.0.1', httpPort: httpPort as number, statusPort: statusPort as number, upstreams });
  await testNginxConfig(nginx, files);
  const child = nginxChild(nginx, files, (err) => t.fail(err.message));
  t.teardown(async () => {
    await child.stop();
    await rm(dir, { recursive: true, force: true });
  });
  child.start();
  const base = `http://127.0.0.1:${httpPort}`;
  await waitFor('NGINX to answer', 5000, () => expectStatus(`${base}/health`, 200), () => child.crash);
  return { base, statusBase: `http://127.0.0.1:${statusPort}`, files };
}
