import type { StackConfig } from '../config.js';
import { knownRedisSecrets } from '../helpers/credentials.js';
import { command, pairs } from '../helpers/redis-probe.js';
import { REDIS_USERS, type RedisAuth } from '../helpers/redis-users.js';
import { isAlive, readRecord } from '../helpers/state.js';
import { monitoringRows } from './status-monitoring.js';
import { askSupervisor, processNote, supervisorRow } from './status-supervisor.js';
import { downRow, get, type Row } from './status-row.js';

/**
 * `npm run status`: every node's role and replication, each Sentinel's view of the master, each API
 * instance's readiness and NGINX, in one table; with a launcher running, each process's restarts and whether
 * its supervisor gave up on it (from SUPERVISOR_PORT). Ports come from the running stack's record, secrets
 * from the configuration. Returns whether everything is healthy.
 */
export async function printStatus(config: StackConfig, out: (line: string) => void): Promise<boolean> {
  const record = await readRecord(config.dir);
  const running = record !== undefined && isAlive(record.pid);
  const ports = running ? record.ports : config;
  const pidOf = new Map((running ? record.processes : []).map((p) => [p.name, p.pid]));
  out(
    running
      ? `Evergreen local stack in ${config.dir}: ${record.phase}, launcher pid ${record.pid}, since ${record.startedAt}`
      : `Evergreen local stack in ${config.dir}: no launcher runs (npm start or npm run up starts one); ` +
          'probing the configured ports',
  );

  const host = config.host;
  const secrets = await knownRedisSecrets(config);
  const adminUser = secrets.admin === undefined ? undefined : { username: REDIS_USERS.admin, password: secrets.admin };
  const sentinelUser = secrets.sentinels === undefined ? undefined : { password: secrets.sentinels };
  const rows = [
    await nginxRow(host, ports.httpPort, ports.statusPort),
    ...(await Promise.all(ports.apiPorts.map((port) => apiRow(host, port)))),
    ...(await Promise.all(ports.redisPorts.map((port) => redisRow(host, port, adminUser)))),
    ...(await Promise.all(ports.sentinelPorts.map((port) => sentinelRow(host, port, config, sentinelUser)))),
    ...(await monitoringRows(host, running ? record.ports.monitoring : config.monitoring)),
  ];
  // The launcher's own view: live pids (a restarted process has a new one), restarts, processes given up on.
  const supervisorPort = running ? (record.ports.supervisorPort ?? config.supervisorPort) : undefined;
  const supervisor = supervisorPort ? await askSupervisor(host, supervisorPort) : undefined;
  const stateOf = new Map((supervisor?.states ?? []).map((s) => [s.name, s]));
  const withPids = [
    ...rows.map((r) => processNote(r, pidOf.get(r.name), stateOf.get(r.name), isAlive)),
    ...(supervisor && running ? [supervisorRow(supervisor, record.pid)] : []),
  ];
  const width = (key: 'what' | 'address' | 'state') => Math.max(...withPids.map((r) => String(r[key]).length));
  for (const r of withPids) {
    const cells = [r.what.padEnd(width('what')), r.address.padEnd(width('address')), r.state.padEnd(width('state'))];
    out(`  ${r.ok ? '✓' : '✗'} ${cells.join('  ')}  ${r.detail}`);
  }
  const problems = withPids.filter((r) => !r.ok).length;
  out(problems === 0 ? 'Everything is healthy.' : `${problems} of ${withPids.length} not healthy.`);
  return problems === 0;
}

async function nginxRow(host: string, port: number, statusPort: number): Promise<Row> {
  const address = `${host}:${port}`;
  try {
    const health = await get(`http://${address}/health`);
    const stub = await get(`http://${host}:${statusPort}/stub_status`).catch(() => undefined);
    const active = stub?.body.match(/Active connections: (\d+)/)?.[1];
    return {
      name: 'nginx',
      what: 'NGINX',
      address,
      state: health.status === 200 ? 'up' : `HTTP ${health.status}`,
      detail: active ? `${active} active connections` : '',
      ok: health.status === 200,
    };
  } catch (err) {
    return downRow('nginx', 'NGINX', address, err);
  }
}

async function apiRow(host: string, port: number): Promise<Row> {
  const address = `${host}:${port}`;
  try {
    const { status, body } = await get(`http://${address}/health/ready`);
    const redis = (JSON.parse(body) as { redis?: ReadyRedis }).redis;
    const detail = redis ? readyDetail(redis) : '';
    return {
      name: `api-${port}`,
      what: 'API',
      address,
      state: status === 200 ? 'ready' : 'not ready',
      detail,
      ok: status === 200,
    };
  } catch (err) {
    return downRow(`api-${port}`, 'API', address, err);
  }
}

/** What /health/ready says about an instance's Redis clients (src/routes/health.ts). */
interface ReadyRedis {
  master: string;
  replica: string;
  sentinels: string;
  failover: string;
  clients: Record<string, string>;
}

function readyDetail(redis: ReadyRedis): string {
  const notReady = Object.entries(redis.clients).filter(([, status]) => status !== 'ready');
  const clients =
    notReady.length === 0
      ? 'every client ready'
      : `not ready: ${notReady.map(([name, status]) => `${name} ${status}`).join(', ')}`;
  const failover = redis.failover === 'none' ? '' : ', failover in progress';
  return `Redis master ${redis.master}, replica ${redis.replica}, Sentinels ${redis.sentinels}${failover}; ${clients}`;
}

async function redisRow(host: string, port: number, auth: RedisAuth | undefined): Promise<Row> {
  const address = `${host}:${port}`;
  try {
    const role = (await command(host, port, auth, ['ROLE'])) as unknown[];
    if (role[0] === 'master') {
      // ['master', offset, [[host, port, offset], ...]]
      const offset = Number(role[1]);
      const replicas = (role[2] as string[][]).map(
        ([, rPort, rOffset]) => `:${rPort} ${offset - Number(rOffset)} bytes behind`,
      );
      return {
        name: `redis-${port}`,
        what: 'Redis',
        address,
        state: 'master',
        detail: `offset ${offset}; replicas ${replicas.join(', ') || 'none'}`,
        ok: replicas.length > 0,
      };
    }
    // ['slave', masterHost, masterPort, 'connected' | 'connecting' | 'sync' | ..., offset]
    const [, mHost, mPort, link, offset] = role.map(String);
    return {
      name: `redis-${port}`,
      what: 'Redis',
      address,
      state: 'replica',
      detail: `of ${mHost}:${mPort}, link ${link}, offset ${offset}`,
      ok: link === 'connected',
    };
  } catch (err) {
    return downRow(`redis-${port}`, 'Redis', address, err);
  }
}

async function sentinelRow(host: string, port: number, config: StackConfig, auth: RedisAuth | undefined): Promise<Row> {
  const address = `${host}:${port}`;
  try {
    const m = pairs(await command(host, port, auth, ['SENTINEL', 'MASTER', config.masterName]));
    const ok = m.flags === 'master';
    const detail =
      `master ${m.ip}:${m.port} (${m.flags}), ${m['num-slaves']} replicas, ` +
      `${m['num-other-sentinels']} other Sentinels, quorum ${m.quorum}`;
    return { name: `sentinel-${port}`, what: 'Sentinel', address, state: ok ? 'watching' : 'alarm', detail, ok };
  } catch (err) {
    return downRow(`sentinel-${port}`, 'Sentinel', address, err);
  }
}
