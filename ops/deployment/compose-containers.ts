import path from 'node:path';
import { execa } from 'execa';
import { DOCKER } from '../../stack/compose/docker-cli.js';
import { repoRoot } from '../../stack/layout.js';
import { waitFor } from '../../stack/helpers/wait.js';

/**
 * A Compose project's containers as the operators' tools see them: its Redis nodes and Sentinels, found by the
 * labels Compose puts on every container (so Compose v1 and v2 alike, wherever and with whatever .env it was
 * started), reached on their addresses on the project's network (a Docker host routes to its bridge networks),
 * stopped and started with the plain docker client.
 */

/** compose.yml's service names: redis-1…, sentinel-1…; their ports inside the network. */
const NODE_SERVICE = /^redis-\d+$/;
const SENTINEL_SERVICE = /^sentinel-\d+$/;
export const NODE_PORT = 6379;
export const SENTINEL_PORT = 26379;
const LABEL = { project: 'com.docker.compose.project', service: 'com.docker.compose.service' };
/** More than compose.yml's stop_grace_period (15 s): Redis may wait 10 s for lagging replicas before it exits. */
const STOP_SECONDS = 20;
const HEALTHY_TIMEOUT_MS = 120_000;

export interface Container {
  id: string;
  service: string;
  /** The image it runs (an id): what a throwaway container for its volume is made of. */
  image: string;
  running: boolean;
  paused: boolean;
  /** healthy, unhealthy, starting; undefined without a healthcheck. */
  health: string | undefined;
  /** Its address on the project's network, and the names it has there (its service name among them). */
  ip: string | undefined;
  aliases: string[];
}

interface Inspected {
  Id: string;
  Image: string;
  Config: { Labels: Record<string, string> | null };
  State: { Running: boolean; Paused: boolean; Health?: { Status: string } };
  NetworkSettings: { Networks: Record<string, { IPAddress: string; Aliases: string[] | null }> | null };
}

/** Compose's name for the project: COMPOSE_PROJECT_NAME when set, else the repo folder's, as Compose makes it. */
export function defaultProjectName(named: string | undefined): string {
  // Compose lower-cases the folder's name and keeps only [a-z0-9_-] (v1 and v2 alike).
  const folder = path
    .basename(path.resolve(repoRoot))
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '');
  return named?.trim() || folder;
}

export async function docker(args: string[], timeoutMs = 60_000): Promise<string> {
  const result = await execa(DOCKER, args, { reject: false, all: true, timeout: timeoutMs });
  if (result.failed) throw new Error(`docker ${args.slice(0, 2).join(' ')} failed: ${result.all?.trim()}`);
  return result.stdout;
}

export class ComposeContainers {
  private constructor(
    readonly project: string,
    /** Each node's and each Sentinel's container, in service order. */
    private readonly nodeIds: string[],
    private readonly sentinelIds: string[],
    /** The project's other services running when it was found (the API instances, NGINX, …). */
    readonly others: string[],
  ) {}

  /** The project's Redis nodes and Sentinels; fails, naming the projects that exist, when it has none. */
  static async find(project: string): Promise<ComposeContainers> {
    const found = await projectContainers(project);
    const of = (pattern: RegExp) =>
      found
        .filter((c) => pattern.test(c.service))
        .sort((a, b) => a.service.localeCompare(b.service, 'en', { numeric: true }));
    const nodes = of(NODE_SERVICE);
    const sentinels = of(SENTINEL_SERVICE);
    if (nodes.length < 2 || sentinels.length === 0) {
      const others = await evergreenProjects();
      throw new Error(
        `no Compose project "${project}" with Evergreen's Redis nodes and Sentinels on this Docker engine ` +
          `(it has ${nodes.length} redis-N and ${sentinels.length} sentinel-N containers). ` +
          (others.length > 0 ? `Projects that have them: ${others.join(', ')}; ` : '') +
          'name one with --project, or `docker compose up -d` it first.',
      );
    }
    return new ComposeContainers(
      project,
      nodes.map((c) => c.id),
      sentinels.map((c) => c.id),
      found
        .filter((c) => c.running && !NODE_SERVICE.test(c.service) && !SENTINEL_SERVICE.test(c.service))
        .map((c) => c.service)
        .sort(),
    );
  }

  /** Every node's container as it is now (addresses change when a container starts again). */
  nodes(): Promise<Container[]> {
    return inspect(this.nodeIds);
  }

  sentinels(): Promise<Container[]> {
    return inspect(this.sentinelIds);
  }

  /** `docker stop`, all at once. (Stop the Sentinels before the nodes, so that none fails over a stopping node.) */
  async stop(containers: Container[]): Promise<void> {
    if (containers.length > 0) await docker(['stop', '--time', String(STOP_SECONDS), ...containers.map((c) => c.id)]);
  }

  /** `docker start`, then waits until every one of them is healthy, as Compose's depends_on would. */
  async startHealthy(containers: Container[]): Promise<Container[]> {
    const ids = containers.map((c) => c.id);
    await docker(['start', ...ids]);
    return waitFor(`${names(containers)} to be healthy`, HEALTHY_TIMEOUT_MS, async () => {
      const now = await inspect(ids);
      const waiting = now.filter((c) => !c.running || (c.health !== undefined && c.health !== 'healthy'));
      if (waiting.length > 0) throw new Error(waiting.map((c) => `${c.service}: ${c.health ?? 'stopped'}`).join(', '));
      return now;
    });
  }
}

export const names = (containers: Container[]) => containers.map((c) => c.service).join(', ');

/**
 * The node a Sentinel or a replica names (the Sentinels announce service names, which only the project's network
 * resolves): by one of its names there (its service name among them) or by its address.
 */
export const findNode = (nodes: Container[], host: string) =>
  nodes.find((c) => c.ip === host || c.aliases.includes(host) || c.service === host);

/** Every container of a project (one-offs aside), whatever its state. */
export function projectContainers(project: string): Promise<Container[]> {
  return listContainers(['--filter', `label=${LABEL.project}=${project}`]);
}

async function listContainers(filters: string[]): Promise<Container[]> {
  const ids = (await docker(['ps', '--all', '--quiet', '--no-trunc', ...filters])).split('\n').filter(Boolean);
  // One-off containers (`docker compose run`) carry the service's label too.
  return ids.length > 0 ? inspect(ids) : [];
}

/** The projects on this engine with a container named like an Evergreen Redis node. */
async function evergreenProjects(): Promise<string[]> {
  const format = `{{.Label "${LABEL.project}"}} {{.Label "${LABEL.service}"}}`;
  const rows = (await docker(['ps', '--all', '--filter', `label=${LABEL.project}`, '--format', format])).split('\n');
  const projects = rows.flatMap((row) => {
    const [project, service] = row.split(' ');
    return project && service && NODE_SERVICE.test(service) ? [project] : [];
  });
  return [...new Set(projects)].sort();
}

async function inspect(ids: string[]): Promise<Container[]> {
  const parsed = JSON.parse(await docker(['inspect', ...ids])) as Inspected[];
  return parsed
    .filter((c) => c.Config.Labels?.['com.docker.compose.oneoff'] !== 'True')
    .map((c) => {
      const labels = c.Config.Labels ?? {};
      const networks = Object.entries(c.NetworkSettings.Networks ?? {});
      // Compose names a project's networks <project>_<name>; the first such one is where the others find it.
      const own = labels[LABEL.project] ?? '';
      const [, network] = networks.find(([name]) => name.startsWith(`${own}_`)) ?? networks[0] ?? [];
      return {
        id: c.Id,
        service: labels[LABEL.service] ?? c.Id.slice(0, 12),
        image: c.Image,
        running: c.State.Running,
        paused: c.State.Paused,
        health: c.State.Health?.Status,
        ip: network?.IPAddress || undefined,
        aliases: network?.Aliases ?? [],
      };
    });
}
