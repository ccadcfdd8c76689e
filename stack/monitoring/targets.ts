import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument, stringify } from 'yaml';
import { repoRoot } from '../layout.js';

/**
 * Prometheus's targets (prometheus/prometheus.yml reads them from targets/<job>.yml): the one place that names
 * every scraped process and labels it. The local stack writes them with its loopback ports at each start;
 * Compose uses the committed prometheus/targets/, made from COMPOSE_HOSTS by running this file.
 */

/** Where each scraped process listens (host:port), and where the Redis nodes and Sentinels are. */
export interface MonitoredHosts {
  apis: string[];
  /** host:port as the Sentinels name each node (its `address` label). */
  redisNodes: string[];
  sentinels: string[];
  redisExporter: string;
  sentinelExporter: string;
  nginxExporter: string;
  prometheus: string;
  alertmanager: string;
  /** The launcher's endpoint (its restarts): the local stack's only, so Compose has no such target. */
  supervisor?: string;
}

interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export const COMPOSE_HOSTS: MonitoredHosts = {
  apis: ['api-1:3000', 'api-2:3000'],
  redisNodes: ['redis-1:6379', 'redis-2:6379', 'redis-3:6379'],
  sentinels: ['sentinel-1:26379', 'sentinel-2:26379', 'sentinel-3:26379'],
  redisExporter: 'redis-exporter:9121',
  sentinelExporter: 'sentinel-exporter:9121',
  nginxExporter: 'nginx-exporter:9113',
  prometheus: 'prometheus:9090',
  alertmanager: 'alertmanager:9093',
};

/** The targets file of each job, by file name. */
export function scrapeTargets(hosts: MonitoredHosts): Record<string, TargetGroup[]> {
  const one = (target: string, instance: string): TargetGroup[] => [{ targets: [target], labels: { instance } }];
  // Every node through the same exporter: the node goes in __param_target, the exporter is the address.
  const viaExporter = (exporter: string, kind: string, nodes: string[], labels: (node: string) => object) =>
    nodes.map((node, i) => ({
      targets: [exporter],
      labels: { instance: `${kind}-${i + 1}`, __param_target: `redis://${node}`, ...labels(node) },
    }));
  return {
    'api.yml': hosts.apis.map((api, i) => ({ targets: [api], labels: { instance: `api-${i + 1}` } })),
    'redis.yml': viaExporter(hosts.redisExporter, 'redis', hosts.redisNodes, (address) => ({ address })),
    'sentinel.yml': viaExporter(hosts.sentinelExporter, 'sentinel', hosts.sentinels, () => ({})),
    'nginx.yml': one(hosts.nginxExporter, 'nginx'),
    'prometheus.yml': one(hosts.prometheus, 'prometheus'),
    'alertmanager.yml': one(hosts.alertmanager, 'alertmanager'),
    ...(hosts.supervisor ? { [SUPERVISOR_TARGETS]: one(hosts.supervisor, 'supervisor') } : {}),
  };
}

const SUPERVISOR_TARGETS = 'supervisor.yml';

/**
 * prometheus.yml with the `supervisor` job added: only the local stack has a launcher to scrape, so the job is added
 * to its copy rather than committed (Compose's Prometheus would read a targets file it has no target for).
 */
export function withSupervisorJob(prometheusYml: string): string {
  const config = parseDocument(prometheusYml);
  const job = { job_name: 'supervisor', file_sd_configs: [{ files: [`targets/${SUPERVISOR_TARGETS}`] }] };
  config.addIn(['scrape_configs'], config.createNode(job));
  return config.toString();
}

const HEADER = '# Made by stack/monitoring/targets.ts: edit it there, not here.\n';

/** Writes every targets file into dir. */
export async function writeScrapeTargets(dir: string, hosts: MonitoredHosts): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [file, groups] of Object.entries(scrapeTargets(hosts))) {
    await writeFile(path.join(dir, file), HEADER + stringify(groups));
  }
}

export const COMPOSE_TARGETS_DIR = path.join(repoRoot, 'prometheus', 'targets');

// `node --import tsx stack/monitoring/targets.ts` rewrites Compose's targets.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeScrapeTargets(COMPOSE_TARGETS_DIR, COMPOSE_HOSTS);
  console.log(`wrote ${COMPOSE_TARGETS_DIR}`);
}
