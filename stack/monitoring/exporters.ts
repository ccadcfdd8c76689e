import type { MonitoringConfig, StackConfig } from '../config.js';
import { stateLayout } from '../layout.js';
import { REDIS_USERS, type RedisSecrets } from '../helpers/redis-users.js';
import type { DaemonSpec } from './daemon.js';

/**
 * Debian's exporters: one redis_exporter for the Redis nodes and one for the Sentinels (each scrapes every
 * node it is asked about through /scrape?target=) as the read-only ACL user `exporter`, and the NGINX exporter on
 * stub_status. The user and password go through the environment, which redis_exporter reads for its flags.
 */
export function exporterSpecs(config: StackConfig, m: MonitoringConfig, secrets: RedisSecrets): DaemonSpec[] {
  const { host } = config;
  const layout = stateLayout(config.dir);
  const redisExporter = (
    kind: 'redis-exporter' | 'sentinel-exporter',
    port: number,
    firstNode: number,
    password: string,
  ): DaemonSpec => ({
    files: layout.monitoring(kind),
    command: 'prometheus-redis-exporter',
    // redis.addr is only what its own /metrics would scrape; Prometheus asks for each node by /scrape.
    args: ['-web.listen-address', `${host}:${port}`, '-redis.addr', `redis://${host}:${firstNode}`],
    // Its read-only user on the nodes and on the Sentinels (redis/users.conf, sentinel/sentinel.conf).
    env: { REDIS_USER: REDIS_USERS.exporter, REDIS_PASSWORD: password },
    readyUrl: `http://${host}:${port}/health`,
  });
  return [
    redisExporter('redis-exporter', m.redisExporterPort, config.redisPorts[0] ?? 0, secrets.exporter),
    redisExporter('sentinel-exporter', m.sentinelExporterPort, config.sentinelPorts[0] ?? 0, secrets.exporter),
    {
      files: layout.monitoring('nginx-exporter'),
      command: 'prometheus-nginx-exporter',
      // It gives up at start when stub_status does not answer: NGINX is up by then, the retries are for a restart.
      args: [
        '-web.listen-address',
        `${host}:${m.nginxExporterPort}`,
        '-nginx.scrape-uri',
        `http://${host}:${config.statusPort}/stub_status`,
        '-nginx.retries',
        '10',
      ],
      readyUrl: `http://${host}:${m.nginxExporterPort}/metrics`,
    },
  ];
}
