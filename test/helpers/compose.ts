/**
 * Reads compose.yml and the Dockerfile as Docker would, without an engine: the parsed services, their mounts
 * and environment, the Dockerfile's stages, and Debian's docker-compose 1.29.2 as the offline validator.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const COMPOSE_FILE = path.join(repoRoot, 'compose.yml');

export interface Service {
  build?: string | { context?: string; dockerfile?: string };
  ports?: unknown[];
  volumes?: (string | { type?: string; source?: string; target: string; read_only?: boolean })[];
  environment?: Record<string, string | number | null> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, { condition?: string }>;
  restart?: string;
}

export interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
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
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
