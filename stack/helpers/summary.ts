import path from 'node:path';
import { stateLayout } from '../layout.js';
import type { StackConfig } from '../config.js';
import type { LocalStack } from '../stack.js';

/** The readable end of a start-up: every URL, where the credentials come from, where the logs are. */
export async function printSummary(
  stack: LocalStack,
  run: { seconds: number; seeded: number; background: boolean },
): Promise<void> {
  const { config } = stack;
  const { host, dir } = config;
  const master = await stack.topology?.masterAddress();
  const replicas = config.redisPorts.filter((port) => port !== master?.port);
  const relative = (file: string) => path.relative(process.cwd(), file) || '.';
  const layout = stateLayout(dir);
  const apiLog = layout.api(config.apiPorts[0] ?? 0).log;
  const rows: [string, string][] = [
    ['Public API', `${stack.publicUrl}/api/v1   (the only port a client needs)`],
    ['API docs', `${stack.publicUrl}/docs   (OpenAPI: ${stack.publicUrl}/docs/json)`],
    ['NGINX health', `${stack.publicUrl}/health`],
    [
      'API instances',
      `${config.apiPorts.map((_, i) => stack.apiUrl(i)).join(', ')}   (/health/ready, /metrics; not routed by NGINX)`,
    ],
    ['NGINX status', `http://${host}:${config.statusPort}/stub_status   (for the exporter)`],
    ['Redis', `master ${master?.host}:${master?.port}, replicas ${replicas.map((p) => `${host}:${p}`).join(', ')}`],
    [
      'Sentinels',
      `${config.sentinelPorts.map((p) => `${host}:${p}`).join(', ')}   (master name "${config.masterName}")`,
    ],
    ['Supervisor', `${stack.procs.supervisor?.url ?? '–'}/status   (restarts what crashes; /metrics for Prometheus)`],
    ...monitoringSummary(config, relative),
    ['Admin', `${stack.credentials.admin.username}; password: ${stack.credentials.adminSource}`],
    ['Demo catalog', run.seeded > 0 ? `${run.seeded} products added` : 'left as it was (not empty)'],
    ['Logs', `${relative(dir)}/<process>/*.log, e.g. ${relative(layout.nginx.accessLog)}, ${relative(apiLog)}`],
    ['', `each rotates at ${config.logRotation.maxBytes / 1024 / 1024} MB, ${config.logRotation.keep} old ones kept`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`\nEvergreen is up (${run.seconds.toFixed(1)} s).`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(width)}  ${value}`);
  console.log(
    run.background
      ? '`npm run status` shows every node; `npm run down` stops everything. Data stays in the state folder.\n'
      : 'Ctrl-C (or `npm run down`) stops everything; data stays in the state folder for the next start.\n',
  );
}

/** Where to watch it: Prometheus, Alertmanager, and where alerts land. */
function monitoringSummary(config: StackConfig, relative: (file: string) => string): [string, string][] {
  const m = config.monitoring;
  if (!m) return [['Monitoring', 'off (STACK_MONITORING=off)']];
  const alerts = path.join(stateLayout(config.dir).monitoring('alert-log').dir, 'alerts.log');
  return [
    ['Prometheus', `http://${config.host}:${m.prometheusPort}   (targets, alerts, graphs)`],
    ['Alertmanager', `http://${config.host}:${m.alertmanagerPort}`],
    ['Alerts', m.webhookUrl ? `sent to ALERT_WEBHOOK_URL` : `${relative(alerts)}   (a JSON line per alert)`],
  ];
}
