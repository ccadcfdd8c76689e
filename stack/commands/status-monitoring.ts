import type { MonitoringPorts } from '../helpers/state.js';
import { downRow, get, type Row } from './status-row.js';

/** The monitoring processes' rows of `npm run status`: what Prometheus scrapes, what fires, what answers. */
export async function monitoringRows(host: string, m: MonitoringPorts | undefined): Promise<Row[]> {
  if (!m) return [];
  const at = (port: number) => `${host}:${port}`;
  return Promise.all([
    probe('prometheus', 'Prometheus', at(m.prometheusPort), prometheusDetail),
    probe('alertmanager', 'Alertmanager', at(m.alertmanagerPort), alertmanagerDetail),
    probe('alert-log', 'Alert log', at(m.alertLogPort), async () => 'Alertmanager webhook; alert-log/alerts.log'),
    probe('redis-exporter', 'Exporter', at(m.redisExporterPort), async () => 'Redis nodes'),
    probe('sentinel-exporter', 'Exporter', at(m.sentinelExporterPort), async () => 'Sentinels'),
    probe('nginx-exporter', 'Exporter', at(m.nginxExporterPort), async () => 'NGINX stub_status', '/metrics'),
  ]);
}

/** Healthy when its health URL answers 200 and detail() can say more. */
async function probe(
  name: string,
  what: string,
  address: string,
  detail: (base: string) => Promise<string>,
  healthPath = name === 'prometheus' || name === 'alertmanager' ? '/-/ready' : '/health',
): Promise<Row> {
  const base = `http://${address}`;
  try {
    const { status } = await get(`${base}${healthPath}`);
    if (status !== 200) return { name, what, address, state: `HTTP ${status}`, detail: '', ok: false };
    return { name, what, address, state: 'up', detail: await detail(base).catch(() => ''), ok: true };
  } catch (err) {
    return downRow(name, what, address, err);
  }
}

async function prometheusDetail(base: string): Promise<string> {
  const targets = JSON.parse((await get(`${base}/api/v1/targets?state=active`)).body) as {
    data: { activeTargets: { health: string }[] };
  };
  const all = targets.data.activeTargets;
  const up = all.filter((target) => target.health === 'up').length;
  return `${up}/${all.length} targets up; ${base}/alerts`;
}

async function alertmanagerDetail(base: string): Promise<string> {
  const alerts = JSON.parse((await get(`${base}/api/v2/alerts?active=true&silenced=false`)).body) as unknown[];
  return `${alerts.length} alerts active; ${base}`;
}
