import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { MonitoringConfig, StackConfig } from '../config.js';
import { repoRoot, stateLayout, type MonitoringFiles } from '../layout.js';
import { renderTemplate } from '../processes/template.js';
import type { DaemonSpec } from './daemon.js';
import { withSupervisorJob, writeScrapeTargets } from './targets.js';

const PROMETHEUS_DIR = path.join(repoRoot, 'prometheus');
const ALERTMANAGER_TEMPLATE = path.join(PROMETHEUS_DIR, 'alertmanager.yml');
// Plenty for drills and a week of history on a laptop; Compose keeps Prometheus's own default (15 d).
const RETENTION = '7d';

/**
 * Prometheus with the repository's prometheus.yml and rules/ (copied fresh at each start, so an edit takes
 * effect at the next start) and targets/ for this stack's ports, plus the launcher's endpoint (host:port) as job
 * `supervisor` when given; promtool checks it all before it starts.
 */
export async function prometheusSpec(
  config: StackConfig,
  m: MonitoringConfig,
  supervisor?: string,
): Promise<DaemonSpec> {
  const { host } = config;
  const files = stateLayout(config.dir).monitoring('prometheus');
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  await rm(path.join(files.dir, 'rules'), { recursive: true, force: true });
  await cp(path.join(PROMETHEUS_DIR, 'rules'), path.join(files.dir, 'rules'), { recursive: true });
  const prometheusYml = await readFile(path.join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8');
  await writeFile(files.conf, supervisor ? withSupervisorJob(prometheusYml) : prometheusYml);
  const at = (port: number) => `${host}:${port}`;
  await writeScrapeTargets(path.join(files.dir, 'targets'), {
    apis: config.apiPorts.map(at),
    redisNodes: config.redisPorts.map(at),
    sentinels: config.sentinelPorts.map(at),
    redisExporter: at(m.redisExporterPort),
    sentinelExporter: at(m.sentinelExporterPort),
    nginxExporter: at(m.nginxExporterPort),
    prometheus: at(m.prometheusPort),
    alertmanager: at(m.alertmanagerPort),
    ...(supervisor ? { supervisor } : {}),
  });
  await check('promtool', ['check', 'config', files.conf], files);
  return {
    files,
    command: 'prometheus',
    args: [
      `--config.file=${files.conf}`,
      `--storage.tsdb.path=${files.data}`,
      `--storage.tsdb.retention.time=${RETENTION}`,
      `--web.listen-address=${at(m.prometheusPort)}`,
    ],
    readyUrl: `http://${at(m.prometheusPort)}/-/ready`,
  };
}

/** Alertmanager with prometheus/alertmanager.yml, its webhook pointed at ALERT_WEBHOOK_URL or the alert log. */
export async function alertmanagerSpec(config: StackConfig, m: MonitoringConfig): Promise<DaemonSpec> {
  const { host } = config;
  const files = stateLayout(config.dir).monitoring('alertmanager');
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  const template = await readFile(ALERTMANAGER_TEMPLATE, 'utf8');
  const webhook = m.webhookUrl ?? `http://${host}:${m.alertLogPort}/alerts`;
  await writeFile(files.conf, renderTemplate(ALERTMANAGER_TEMPLATE, template, { ALERT_WEBHOOK_URL: webhook }));
  await check('amtool', ['check-config', files.conf], files);
  return {
    files,
    command: 'prometheus-alertmanager',
    args: [
      `--config.file=${files.conf}`,
      `--storage.path=${files.data}`,
      `--web.listen-address=${host}:${m.alertmanagerPort}`,
      // Empty: no gossip with other Alertmanagers (it would listen on 0.0.0.0:9094).
      '--cluster.listen-address=',
    ],
    readyUrl: `http://${host}:${m.alertmanagerPort}/-/ready`,
  };
}

/** prometheus/alert-log.mjs: every notification as a JSON line of alert-log/alerts.log. */
export function alertLogSpec(config: StackConfig, m: MonitoringConfig): DaemonSpec {
  const files = stateLayout(config.dir).monitoring('alert-log');
  const listen = `${config.host}:${m.alertLogPort}`;
  return {
    files,
    command: process.execPath,
    args: [path.join(PROMETHEUS_DIR, 'alert-log.mjs')],
    env: { ALERT_LOG_LISTEN: listen },
    outLog: path.join(files.dir, 'alerts.log'),
    readyUrl: `http://${listen}/health`,
  };
}

/** A config the program's own checker refuses is reported in its words before anything starts. */
async function check(tool: string, args: string[], files: MonitoringFiles): Promise<void> {
  const result = await execa(tool, args, { reject: false, all: true });
  if (result.failed) throw new Error(`${tool} ${args.join(' ')} refuses ${files.name}'s config:\n${result.all}`);
}
