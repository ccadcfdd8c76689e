import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot, stateLayout, type NginxFiles } from '../layout.js';
import type { LogRotation } from '../supervisor/log-file.js';
import { Supervised } from '../supervisor/supervised.js';
import type { StackTier } from '../tiers.js';
import { expectStatus } from '../helpers/wait.js';
import { renderTemplate } from './template.js';

const TEMPLATE = path.join(repoRoot, 'nginx', 'nginx.conf');
const NGINX_READY_TIMEOUT_MS = 10_000;
// It drains in-flight requests within its timeouts.
const NGINX_STOP_GRACE_MS = 12_000;

export interface NginxSettings {
  host: string;
  httpPort: number;
  statusPort: number;
  /** host:port of each API instance. */
  upstreams: string[];
  /** Locations added to the public server (a benchmark's trivial route); none in any real deployment. */
  extraLocations?: string;
}

export const EXTRA_LOCATIONS_MARK = "    # (A benchmark's own stack adds its locations here: npm run bench.)";

/** Renders nginx/nginx.conf for this host: every address local, every path inside files.dir. */
export async function renderNginxConfig(files: NginxFiles, s: NginxSettings): Promise<NginxFiles> {
  const [api1, api2, ...more] = s.upstreams;
  if (!api1 || !api2 || more.length > 0) {
    throw new Error(`${TEMPLATE} has 2 upstream servers, got ${s.upstreams.length}`);
  }
  const config = renderTemplate(TEMPLATE, await readFile(TEMPLATE, 'utf8'), {
    NGINX_LISTEN: `${s.host}:${s.httpPort}`,
    NGINX_STATUS_LISTEN: `${s.host}:${s.statusPort}`,
    API_1: api1,
    API_2: api2,
    NGINX_PID: files.pid,
    // Errors to the supervisor, which writes files.errorLog; the access log NGINX writes itself (it cannot
    // open a stdout that is a socket), and the supervisor rotates it (copy and truncate).
    NGINX_ERROR_LOG: 'stderr',
    NGINX_ACCESS_LOG: files.accessLog,
    NGINX_TEMP_DIR: files.tempDir,
  });
  if (s.extraLocations && !config.includes(EXTRA_LOCATIONS_MARK)) throw new Error(`${TEMPLATE} lost its mark`);
  await mkdir(files.tempDir, { recursive: true });
  await writeFile(files.conf, s.extraLocations ? config.replace(EXTRA_LOCATIONS_MARK, s.extraLocations) : config);
  return files;
}

// -p keeps NGINX's relative paths in the folder; -e its errors before the config is read.
const nginxArgs = (files: NginxFiles) => ['-p', files.dir, '-c', files.conf, '-e', 'stderr'];

/** nginx -t: a bad config is reported, with NGINX's own words, before anything is started. */
export async function testNginxConfig(nginx: string, files: NginxFiles): Promise<void> {
  const result = await execa(nginx, ['-t', '-q', ...nginxArgs(files)], { reject: false, all: true });
  if (result.failed) throw new Error(`nginx -t rejects ${files.conf}:\n${result.all}`);
}

/**
 * NGINX in the foreground; SIGQUIT lets it finish the requests in flight. Ready once its own /health
 * answers and, when probeRoute is given, a route through an API instance does too: the whole path works.
 */
export function nginxProcess(
  nginx: string,
  files: NginxFiles,
  base: string,
  onCrash: (err: Error) => void,
  probeRoute?: string,
  rotation?: LogRotation,
): Supervised {
  const ready = async () => {
    await expectStatus(`${base}/health`, 200);
    if (probeRoute) await expectStatus(`${base}${probeRoute}`, 200);
  };
  return new Supervised(
    {
      name: files.name,
      command: nginx,
      args: [...nginxArgs(files), '-g', 'daemon off;'],
      log: files.errorLog,
      ownLogs: [files.accessLog],
      rotation,
      cwd: files.dir,
      stopSignal: 'SIGQUIT',
      graceMs: NGINX_STOP_GRACE_MS,
      detached: true,
      ready,
      readyTimeoutMs: NGINX_READY_TIMEOUT_MS,
    },
    onCrash,
  );
}

/** NGINX in front of the API instances, last up and first down; ready once a route through an instance answers. */
export const nginxTier: StackTier = {
  ports: ({ httpPort, statusPort }) => [
    { port: httpPort, what: 'NGINX (HTTP_PORT)' },
    { port: statusPort, what: 'NGINX stub_status (NGINX_STATUS_PORT)' },
  ],
  async start(host) {
    const { config } = host;
    const files = await renderNginxConfig(stateLayout(config.dir).nginx, {
      host: config.host,
      httpPort: config.httpPort,
      statusPort: config.statusPort,
      upstreams: config.apiPorts.map((port) => `${config.host}:${port}`),
      extraLocations: config.nginxExtraLocations,
    });
    await testNginxConfig(host.nginxProgram, files);
    const route = '/api/v1/products?limit=1';
    const { nginxProgram, publicUrl, reportCrash } = host;
    const nginx = nginxProcess(nginxProgram, files, publicUrl, reportCrash, route, config.logRotation);
    host.procs.nginx = nginx;
    nginx.start();
    host.log(`  nginx: started, pid ${nginx.pid}`);
    await nginx.waitUntilReady();
    return `NGINX serving ${host.publicUrl}`;
  },
  stop: async (host) => host.procs.nginx?.stop(),
};
