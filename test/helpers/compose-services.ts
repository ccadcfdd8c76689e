/**
 * compose.yml as the Compose tests see it: its services by name, the secrets it needs, and small readers shared
 * by test/compose.test.ts (the deployment) and test/compose-monitoring.test.ts (its monitoring).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { parse } from 'yaml';
import { dockerCompose, loadCompose, repoRoot, type ComposeFile, type Service } from './compose.js';

export const compose = loadCompose();
export const services = Object.entries(compose.services);
/** The numbered services of a kind: named('redis-') is redis-1, redis-2, redis-3 (not redis-exporter). */
export const named = (prefix: string) =>
  services.filter(([name]) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)));
export const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
export const SECRETS = {
  REDIS_PASSWORD: 'redis-secret',
  REDIS_REPLICATION_PASSWORD: 'replication-secret',
  REDIS_SENTINEL_PASSWORD: 'redis-sentinel-secret',
  REDIS_EXPORTER_PASSWORD: 'exporter-secret',
  REDIS_ADMIN_PASSWORD: 'admin-secret',
  SENTINEL_PASSWORD: 'sentinel-secret',
  JWT_SECRET: 'j'.repeat(32),
  GRAFANA_ADMIN_PASSWORD: 'grafana-secret',
};
export const SENTINEL_PORT = 26379;
/** Its image is FROM scratch, with nothing to probe it from inside: compose.yml says how it is watched instead. */
export const NO_HEALTHCHECK = 'nginx-exporter';
/** Where each stateful service keeps its state: a named volume of its own must be mounted there. */
export const STATE_DIRS: Record<string, string> = {
  'redis-1': '/data',
  'redis-2': '/data',
  'redis-3': '/data',
  'sentinel-1': '/data',
  'sentinel-2': '/data',
  'sentinel-3': '/data',
  prometheus: '/prometheus',
  alertmanager: '/alertmanager',
  grafana: '/var/lib/grafana',
};
/** Services Prometheus does not scrape: NGINX through nginx-exporter, Grafana and the alert log not at all. */
export const NOT_SCRAPED = ['alert-log', 'grafana', 'nginx'];

export const serviceNamed = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`compose.yml has no service ${name}`);
  return found;
};
export const readYaml = <T>(file: string) => parse(read(file)) as T;
/** The default of a value written `${NAME:-default}`. */
export const defaultOf = (value: string | undefined) => /^\$\{[A-Z0-9_]+:-([^}]*)\}$/.exec(value ?? '')?.[1];
/** A command-line flag's value (`--name=value` or `-name=value`). */
export const flag = (args: string[], name: string) =>
  args.find((arg) => arg.startsWith(`${name}=`))?.slice(name.length + 1);
/** `docker-compose config`: compose.yml as Compose resolves it (anchors and variables), with these variables. */
export function resolved(dir: string, vars: Record<string, string> = {}): ComposeFile {
  const emptyEnvFile = path.join(dir, 'empty.env');
  writeFileSync(emptyEnvFile, '');
  const run = dockerCompose(['config'], { ...SECRETS, ...vars }, emptyEnvFile);
  if (run.status !== 0) throw new Error(`docker-compose config: ${run.output}`);
  return parse(run.stdout) as ComposeFile;
}
/** Resolves once a stream has printed text; rejects after ms. */
export function printed(stream: Readable, text: string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`never printed ${text}: ${seen}`)), ms);
    stream.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
