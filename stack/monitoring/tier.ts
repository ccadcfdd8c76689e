import type { StackTier } from '../tiers.js';
import { monitoringDaemon } from './daemon.js';
import { exporterSpecs } from './exporters.js';
import { alertLogSpec, alertmanagerSpec, prometheusSpec } from './servers.js';

/**
 * Prometheus, Alertmanager, the alert log and the exporters, once everything they watch is up (so the
 * first scrapes find it); nothing when STACK_MONITORING=off. Started receivers first: the alert log,
 * then Alertmanager, the exporters, and Prometheus last.
 */
export const monitoringTier: StackTier = {
  ports: ({ monitoring: m }) =>
    m
      ? [
          { port: m.prometheusPort, what: 'Prometheus (PROMETHEUS_PORT)' },
          { port: m.alertmanagerPort, what: 'Alertmanager (ALERTMANAGER_PORT)' },
          { port: m.alertLogPort, what: 'the alert log (ALERT_LOG_PORT)' },
          { port: m.redisExporterPort, what: 'the Redis exporter (REDIS_EXPORTER_PORT)' },
          { port: m.sentinelExporterPort, what: 'the Sentinel exporter (SENTINEL_EXPORTER_PORT)' },
          { port: m.nginxExporterPort, what: 'the NGINX exporter (NGINX_EXPORTER_PORT)' },
        ]
      : [],
  async start(host) {
    const { config } = host;
    const m = config.monitoring;
    if (!m) return 'monitoring off (STACK_MONITORING=off)';
    const specs = [
      alertLogSpec(config, m),
      await alertmanagerSpec(config, m),
      ...exporterSpecs(config, m, host.credentials.redis),
      await prometheusSpec(config, m, host.procs.supervisor?.address),
    ];
    for (const spec of specs) {
      const daemon = await monitoringDaemon(config, spec, host.reportCrash);
      host.procs.monitoring.push(daemon);
      daemon.start();
      host.log(`  ${daemon.spec.name}: started, pid ${daemon.pid}`);
      await daemon.waitUntilReady();
    }
    return `Prometheus on http://${config.host}:${m.prometheusPort}, Alertmanager on http://${config.host}:${m.alertmanagerPort}`;
  },
  stop: async (host) => {
    await Promise.all(host.procs.monitoring.map((daemon) => daemon.stop()));
  },
};
