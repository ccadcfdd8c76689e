import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * The state folder (STACK_DIR, default .stack/): every path of every process of the stack is built here
 * and only here, as src/redis/keys.ts is for Redis keys. Users' existing folders must keep working, so
 * these names never change:
 *
 *   stack.json            the running stack's record (state.ts), for `npm run down` and `npm run status`
 *   stack.log             the launcher's output under `npm run up`
 *   credentials.env       the generated admin and JWT secret (mode 0600)
 *   redis-<port>/         redis.conf, redis.log, redis.pid, the RDB and appendonlydir/
 *   sentinel-<port>/      sentinel.conf (Sentinel rewrites it), sentinel.log, sentinel.pid
 *   api-<port>/           api.log; also the instance's working directory
 *   nginx/                nginx.conf, error.log, access.log, nginx.pid, tmp/
 *   prometheus/           prometheus.yml, rules/, targets/ (copied and written at each start), data/, prometheus.log
 *   alertmanager/         alertmanager.yml (rendered at each start), data/, alertmanager.log
 *   alert-log/            alerts.log: every alert Alertmanager sent, a JSON line each; alert-log.log
 *   <kind>-exporter/      redis-exporter, sentinel-exporter, nginx-exporter: <kind>-exporter.log
 *
 * Every log rotates by size (STACK_LOG_MAX_MB) into <log>.1 … <log>.<STACK_LOG_FILES>.
 */
export interface ProcessFiles {
  /** Named in every report, and the folder's name: redis-6379, sentinel-26379, api-3001, nginx. */
  name: string;
  dir: string;
  conf: string;
  log: string;
  pid: string;
}

export interface NginxFiles extends ProcessFiles {
  errorLog: string;
  accessLog: string;
  tempDir: string;
}

/** A process's folder and files, named after its kind: redis-6379/redis.conf, redis.log, redis.pid. */
function processFiles(root: string, kind: string, port: number): ProcessFiles {
  const name = `${kind}-${port}`;
  const dir = path.join(root, name);
  const file = (ext: string) => path.join(dir, `${kind}.${ext}`);
  return { name, dir, conf: file('conf'), log: file('log'), pid: file('pid') };
}

/** NGINX's files in dir (the stack's nginx/ folder, or a test's own temp folder). */
export function nginxFiles(dir: string): NginxFiles {
  const file = (name: string) => path.join(dir, name);
  const errorLog = file('error.log');
  return {
    name: 'nginx',
    dir,
    conf: file('nginx.conf'),
    log: errorLog,
    pid: file('nginx.pid'),
    errorLog,
    accessLog: file('access.log'),
    tempDir: file('tmp'),
  };
}

/** The monitoring processes, each with a folder of its own named after it. */
export type MonitoringKind =
  'prometheus' | 'alertmanager' | 'alert-log' | 'redis-exporter' | 'sentinel-exporter' | 'nginx-exporter';

/** A monitoring process's files: prometheus/prometheus.yml, prometheus.log, data/. */
export interface MonitoringFiles extends ProcessFiles {
  data: string;
}

function monitoringFiles(root: string, kind: MonitoringKind): MonitoringFiles {
  const dir = path.join(root, kind);
  const file = (ext: string) => path.join(dir, `${kind}.${ext}`);
  return { name: kind, dir, conf: file('yml'), log: file('log'), pid: file('pid'), data: path.join(dir, 'data') };
}

export interface StateLayout {
  root: string;
  record: string;
  launcherLog: string;
  credentials: string;
  redis(port: number): ProcessFiles;
  sentinel(port: number): ProcessFiles;
  api(port: number): ProcessFiles;
  nginx: NginxFiles;
  monitoring(kind: MonitoringKind): MonitoringFiles;
}

/** The layout of the state folder root (absolute). */
export function stateLayout(root: string): StateLayout {
  return {
    root,
    record: path.join(root, 'stack.json'),
    launcherLog: path.join(root, 'stack.log'),
    credentials: path.join(root, 'credentials.env'),
    redis: (port) => processFiles(root, 'redis', port),
    sentinel: (port) => processFiles(root, 'sentinel', port),
    api: (port) => processFiles(root, 'api', port),
    nginx: nginxFiles(path.join(root, 'nginx')),
    monitoring: (kind) => monitoringFiles(root, kind),
  };
}
