import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import type { StackConfig } from '../../stack/config.js';
import { nginxFiles, type NginxFiles } from '../../stack/layout.js';
import { nginxProcess, renderNginxConfig, testNginxConfig } from '../../stack/processes/nginx.js';
import { LocalStack } from '../../stack/stack.js';
import type { LogRotation } from '../../stack/supervisor/log-file.js';
import { temporaryStackConfig } from '../../stack/helpers/temporary.js';
import { freePorts, installedProgram, removeUnlessFailed, tempDir } from './fixtures.js';

export { call, type HttpResult } from './fixtures.js';

/** Helpers for the tests of the local stack (stack/) and of its NGINX (nginx/nginx.conf). */

export const STACK_ADMIN = { username: 'stack-admin', password: 'stack-admin-password-1' };

/** The stacks started from each test config's dir, stopped on that test's teardown. */
const stacksOf = new Map<string, LocalStack[]>();

/**
 * A stack config on free ports in a temp dir (so a developer's running stack never collides), with
 * secrets of its own. On teardown every stack started from it is stopped, then the dir is removed
 * (kept, with its logs, when the test failed). options.apiEnv adds to (or overrides) the instances'
 * environment below.
 */
export async function testStackConfig(
  t: Test,
  options: { monitoring?: boolean; apiEnv?: Record<string, string> } = {},
): Promise<StackConfig> {
  const config = await temporaryStackConfig('stack', {
    monitoring: options.monitoring ?? false,
    downAfterMs: 1000,
    failoverTimeoutMs: 3000,
    admin: STACK_ADMIN,
    apiRunner: 'source',
    // info: every request is in the instance's log; limits high enough for a stream of requests.
    apiEnv: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      BCRYPT_COST: '4',
      RATE_LIMIT_MAX: '100000',
      LOGIN_RATE_LIMIT_MAX: '1000',
      ...options.apiEnv,
    },
  });
  const started: LocalStack[] = [];
  stacksOf.set(config.dir, started);
  removeUnlessFailed(t, config.dir, () => Promise.all(started.map((stack) => stack.stop())));
  return config;
}

/** Starts a stack from a config made by testStackConfig; its progress lines become comments. */
export async function startTestStack(t: Test, config: StackConfig): Promise<LocalStack> {
  const nginx = await installedProgram('nginx');
  const stack = new LocalStack(config, { nginx, log: (msg) => t.comment(msg) });
  stacksOf.get(config.dir)?.push(stack);
  const startingAt = Date.now();
  await stack.start();
  t.comment(`stack up in ${Date.now() - startingAt} ms`);
  return stack;
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
      if (req.headers['x-fake'] === 'stream') {
        // A live stream: an event at once, then one every 200 ms until the client leaves.
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        let n = 0;
        const tick = () => res.write(`id: ${n}-0\nevent: stock\ndata: {"n":${n++}}\n\n`);
        tick();
        const timer = setInterval(tick, 200);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-request-id', String(req.headers['x-request-id']));
      res.end(JSON.stringify({ upstream: address }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(
    () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections(); // NGINX's keepalive connections
      }),
  );
  return { address, seen };
}

/**
 * NGINX from nginx/nginx.conf on free ports in front of the given upstreams; stopped on teardown.
 * extraLocations go where a benchmark's do (a test's own routes, e.g. one that makes NGINX answer a status).
 */
export async function startTestNginx(t: Test, upstreams: string[], rotation?: LogRotation, extraLocations?: string) {
  const nginx = await installedProgram('nginx');
  let child: ReturnType<typeof nginxProcess> | undefined;
  const dir = await tempDir(t, 'nginx', async () => child?.stop());
  const [httpPort, statusPort] = (await freePorts(2)) as [number, number];
  const host = '127.0.0.1';
  const files: NginxFiles = await renderNginxConfig(nginxFiles(dir), {
    host,
    httpPort,
    statusPort,
    upstreams,
    extraLocations,
  });
  await testNginxConfig(nginx, files);
  const base = `http://${host}:${httpPort}`;
  child = nginxProcess(nginx, files, base, (err) => t.fail(err.message), undefined, rotation);
  child.start();
  await child.waitUntilReady(5000);
  return { base, statusBase: `http://${host}:${statusPort}`, files };
}
