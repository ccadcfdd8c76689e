/**
 * Reads compose.yml and the Dockerfile as Docker would, without an engine: the parsed services, their mounts
 * and environment, the Dockerfile's stages, and Debian's docker-compose 1.29.2 as the offline validator.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

import { repoRoot } from '../../stack/layout.js';

export { repoRoot };
const COMPOSE_FILE = path.join(repoRoot, 'compose.yml');

export interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; args?: Record<string, string> };
  command?: string | string[];
  entrypoint?: string | string[];
  user?: string;
  logging?: { driver?: string; options?: Record<string, string | number> };
  ports?: unknown[];
  volumes?: (string | { type?: string; source?: string; target: string; read_only?: boolean })[];
  environment?: Record<string, string | number | null> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  restart?: string;
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  extra_hosts?: string[];
}

export interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string; ip_range?: string }[] } }>;
}

/** compose.yml as Compose reads it: YAML merge keys (<<) resolved, ${...} left as written. */
export function loadCompose(): ComposeFile {
  return parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
}

export interface Mount {
  /** A named volume's name, or a bind mount's path relative to the repo. */
  source: string;
  target: string;
  bind: boolean;
  readOnly: boolean;
}

/** A service's volumes in one shape, from Compose's short ("src:target:ro") or long syntax. */
export function mounts(service: Service): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume === 'string') {
      const [source = '', target = '', mode = ''] = volume.split(':');
      return { source, target, bind: /^[./~]/.test(source), readOnly: mode.split(',').includes('ro') };
    }
    const source = volume.source ?? '';
    return { source, target: volume.target, bind: volume.type === 'bind', readOnly: volume.read_only === true };
  });
}

/** A service's environment as a map, from Compose's map or "KEY=value" list syntax. */
export function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  const entries = Array.isArray(env) ? env.map((line) => line.split(/=(.*)/s)) : Object.entries(env);
  return Object.fromEntries(entries.map(([key = '', value]) => [key, value == null ? '' : String(value)]));
}

/** A command or entrypoint as its arguments (this file writes them as lists; a string is split on spaces). */
export function argv(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : value.split(/\s+/).filter(Boolean);
}

/** The build context of a service built from a Dockerfile, or undefined for one run from an image. */
export function buildContext(service: Service): string | undefined {
  return typeof service.build === 'string' ? service.build : service.build?.context;
}

/** The repo path (relative) behind a container path, through one of the service's bind mounts. */
export function hostPath(service: Service, containerPath: string): string | undefined {
  for (const m of mounts(service).filter((m) => m.bind)) {
    if (containerPath === m.target) return path.normalize(m.source);
    if (containerPath.startsWith(`${m.target}/`)) return path.join(m.source, containerPath.slice(m.target.length));
  }
  return undefined;
}

/** The text of the repo script a service's entrypoint runs (`sh /mounted/script.sh`), if it runs one. */
export function entrypointScript(service: Service): { file: string; text: string } | undefined {
  const [shell, script] = argv(service.entrypoint);
  const file = shell === 'sh' && script ? hostPath(service, script) : undefined;
  if (!file || !existsSync(path.join(repoRoot, file))) return undefined;
  return { file, text: readFileSync(path.join(repoRoot, file), 'utf8') };
}

/** The settings, in Compose's environment, that name a port a service listens on ("3000", ":9121", "0.0.0.0:9099"). */
const LISTEN_SETTINGS = [
  'PORT',
  'SENTINEL_PORT',
  'NGINX_LISTEN',
  'NGINX_STATUS_LISTEN',
  'ALERT_LOG_LISTEN',
  'REDIS_EXPORTER_WEB_LISTEN_ADDRESS',
  'GF_SERVER_HTTP_PORT',
];

/**
 * The ports a service listens on, as its config says: the environment's listen settings, a
 * --web.listen-address flag in its command or entrypoint script, or a `port N` line its script writes.
 */
export function listenPorts(service: Service): Set<number> {
  const ports = new Set<number>();
  const env = environment(service);
  for (const key of LISTEN_SETTINGS) {
    const port = /^(?:\S*:)?(\d+)$/.exec(env[key] ?? '')?.[1];
    if (port) ports.add(Number(port));
  }
  const text = [...argv(service.command), entrypointScript(service)?.text ?? ''].join('\n');
  for (const m of text.matchAll(/--?web\.listen-address[= ]\S*:(\d+)/g)) ports.add(Number(m[1]));
  for (const m of text.matchAll(/^port (\d+)$/gm)) ports.add(Number(m[1]));
  return ports;
}

/** host and port of "host:port" or of a URL's authority ("redis://redis-1:6379", "http://nginx:8081/x"). */
export function hostAndPort(address: string): { host: string; port: number } {
  const { hostname, port } = new URL(address.includes('://') ? address : `tcp://${address}`);
  return { host: hostname, port: Number(port) };
}

export interface Variable {
  name: string;
  /** ":-", "-", ":?", "?" or "" (plain ${NAME}). */
  operator: string;
  /** The default (for - and :-) or the error message (for ? and :?). */
  value: string;
}

/** Every ${NAME...} Compose interpolates in a parsed compose file's values ($${...} is an escaped dollar). */
export function variables(node: unknown): Variable[] {
  if (typeof node === 'string') {
    return [...node.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g)].map((m) => ({
      name: m[1] as string,
      operator: m[2] ?? '',
      value: m[3] ?? '',
    }));
  }
  if (Array.isArray(node)) return node.flatMap(variables);
  if (node && typeof node === 'object') return Object.values(node).flatMap(variables);
  return [];
}

/** The NAME=value lines of a .env file (comments and blank lines skipped). */
export function envFile(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .map((line) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim()))
    .filter((m) => m !== null)
    .map((m) => [m[1] as string, m[2] as string] as const);
  return new Map(entries);
}

/** Every ${NAME} a template uses outside its comments (which may mention others). */
export function placeholders(template: string): Set<string> {
  const settings = template.split('\n').filter((line) => !line.trimStart().startsWith('#'));
  return new Set(
    settings.flatMap((line) => [...line.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1] as string)),
  );
}

export interface Stage {
  from: string;
  name: string | undefined;
  /** The stage's instructions after FROM, continuation lines joined. */
  instructions: string[];
}

/** A Dockerfile split into its stages. */
export function dockerfileStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1] as string, name: from[2], instructions: [] });
    else stages.at(-1)?.instructions.push(line);
  }
  return stages;
}

export interface Run {
  status: number | null;
  stdout: string;
  output: string;
}

/** `docker-compose <args>` on compose.yml with only the given variables (no shell environment, no .env). */
export function dockerCompose(args: string[], vars: Record<string, string>, emptyEnvFile: string): Run {
  const run = spawnSync('docker-compose', ['--env-file', emptyEnvFile, '-f', COMPOSE_FILE, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH, ...vars },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`docker-compose is not installed: apt-get install -y --no-install-recommends docker-compose`);
  }
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, output: `${run.stdout}${run.stderr}` };
}
