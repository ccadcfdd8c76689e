import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { Child } from './child.js';
import { repoRoot } from './config.js';
import { renderTemplate } from './template.js';

const TEMPLATE = path.join(repoRoot, 'nginx', 'nginx.conf');

export interface NginxSettings {
  /** Folder for the rendered config, its logs, pid and temp files. */
  dir: string;
  host: string;
  httpPort: number;
  statusPort: number;
  /** host:port of each API instance. */
  upstreams: string[];
}

export interface NginxFiles {
  dir: string;
  conf: string;
  errorLog: string;
  accessLog: string;
}

/** Renders nginx/nginx.conf for this host: every address local, every path inside settings.dir. */
export async function renderNginxConfig(s: NginxSettings): Promise<NginxFiles> {
  const [api1, api2, ...more] = s.upstreams;
  if (!api1 || !api2 || more.length > 0) throw new Error(`${TEMPLATE} has 2 upstream servers, got ${s.upstreams.length}`);
  const files = { dir: s.dir, conf: path.join(s.dir, 'nginx.conf'), errorLog: path.join(s.dir, 'error.log'), accessLog: path.join(s.dir, 'access.log') };
  const config = renderTemplate(TEMPLATE, await readFile(TEMPLATE, 'utf8'), {
    NGINX_LISTEN: `${s.host}:${s.httpPort}`,
    NGINX_STATUS_LISTEN: `${s.host}:${s.statusPort}`,
    API_1: api1,
    API_2: api2,
    NGINX_PID: path.join(s.dir, 'nginx.pid'),
    NGINX_ERROR_LOG: files.errorLog,
    NGINX_ACCESS_LOG: files.accessLog,
    NGINX_TEMP_DIR: path.join(s.dir, 'tmp'),
  });
  await mkdir(path.join(s.dir, 'tmp'), { recursive: true });
  await writeFile(files.conf, config);
  return files;
}

// -p keeps NGINX's relative paths in the folder; -e its errors before the config is read.
const nginxArgs = (files: NginxFiles) => ['-p', files.dir, '-c', files.conf, '-e', files.errorLog];

/** nginx -t: a bad config is reported, with NGINX's own words, before anything is started. */
export async function testNginxConfig(nginx: string, files: NginxFiles): Promise<void> {
  const result = await execa(nginx, ['-t', '-q', ...nginxArgs(files)], { reject: false, all: true });
  if (result.failed) throw new Error(`nginx -t rejects ${files.conf}:\n${result.all}`);
}

/** NGINX in the foreground; SIGQUIT lets it finish the requests in flight. */
export function nginxChild(nginx: string, files: NginxFiles, onCrash: (err: Error) => void): Child {
  return new Child(
    { name: 'nginx', command: nginx, args: [...nginxArgs(files), '-g', 'daemon off;'], log: files.errorLog, cwd: files.dir, stopSignal: 'SIGQUIT' },
    onCrash,
  );
}
