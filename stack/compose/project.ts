import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../layout.js';
import { waitFor } from '../helpers/wait.js';
import { DOCKER } from './docker-cli.js';

const COMPOSE_FILE = path.join(repoRoot, 'compose.yml');
const HEALTHY_TIMEOUT_MS = 180_000;

/** What `docker inspect` says of a container's state. */
export interface ContainerState {
  id: string;
  running: boolean;
  paused: boolean;
  startedAt: string;
  /** healthy, unhealthy, starting; undefined without a healthcheck. */
  health: string | undefined;
  /** When its first passing healthcheck ended (ISO), if one has. */
  firstHealthyAt: string | undefined;
  ip: string | undefined;
  user: string;
  /** Container ports published on the host, e.g. 8080/tcp. */
  published: string[];
}

interface Inspected {
  Id: string;
  Config: { User: string };
  State: {
    Running: boolean;
    Paused: boolean;
    StartedAt: string;
    Health?: { Status: string; Log?: { End: string; ExitCode: number }[] };
  };
  NetworkSettings: {
    Networks: Record<string, { IPAddress: string }>;
    Ports: Record<string, { HostPort: string }[] | null>;
  };
}

/**
 * compose.yml run as a project of its own (its own name, ports, secrets and volumes), with Debian's
 * docker-compose 1.29.2. Reads no .env: every variable comes from `vars`, so a developer's .env never leaks in.
 */
/** One engine event of a project's container: its service, what happened (start, health_status: healthy, …), when. */
export interface ComposeEvent {
  service: string;
  status: string;
  at: number;
}

export class ComposeProject {
  private envFile: string | undefined;

  constructor(
    readonly name: string,
    private readonly vars: Record<string, string>,
  ) {}

  /** `docker-compose <args>` for this project; rejects with its output when it fails. */
  async compose(args: string[], timeoutMs = 600_000): Promise<string> {
    this.envFile ??= await emptyEnvFile(this.name);
    const result = await execa(
      'docker-compose',
      ['--project-name', this.name, '--file', COMPOSE_FILE, '--env-file', this.envFile, ...args],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', ...this.vars },
        extendEnv: false,
        all: true,
        reject: false,
        timeout: timeoutMs,
      },
    );
    if (result.failed) throw new Error(`docker-compose ${args.join(' ')} failed:\n${result.all}`);
    return result.stdout;
  }

  /** Builds what must be built and starts `services` (and what they depend on), waiting as depends_on says. */
  up(services: string[]): Promise<string> {
    return this.compose(['up', '--detach', '--build', ...services], 900_000);
  }

  /** Stops and removes the containers and network; the volumes too when asked. */
  async down(options: { volumes: boolean }): Promise<string> {
    const output = await this.compose(['down', '--timeout', '20', ...(options.volumes ? ['--volumes'] : [])]);
    // The empty env file goes with the project (a later command writes it again).
    if (this.envFile) await rm(this.envFile, { force: true });
    this.envFile = undefined;
    return output;
  }

  /** The container id of a service (its first container). */
  async container(service: string): Promise<string> {
    const id = (await this.compose(['ps', '--quiet', service])).trim().split('\n')[0];
    if (!id) throw new Error(`${this.name}: no container for ${service}`);
    return id;
  }

  async state(service: string): Promise<ContainerState> {
    const { stdout } = await execa(DOCKER, ['inspect', await this.container(service)]);
    const [c] = JSON.parse(stdout) as Inspected[];
    if (!c) throw new Error(`${service}: docker inspect found nothing`);
    const passed = c.State.Health?.Log?.find((entry) => entry.ExitCode === 0);
    return {
      id: c.Id,
      running: c.State.Running,
      paused: c.State.Paused,
      startedAt: c.State.StartedAt,
      health: c.State.Health?.Status,
      firstHealthyAt: passed?.End,
      ip: Object.values(c.NetworkSettings.Networks)[0]?.IPAddress,
      user: c.Config.User,
      published: Object.entries(c.NetworkSettings.Ports ?? {}).flatMap(([port, bound]) =>
        bound?.length ? [port] : [],
      ),
    };
  }

  /** Waits until every service with a healthcheck is healthy (and every other one runs). */
  async waitHealthy(services: string[], timeoutMs = HEALTHY_TIMEOUT_MS): Promise<void> {
    await waitFor(`${services.join(', ')} to be healthy`, timeoutMs, async () => {
      const states = await Promise.all(services.map(async (s) => [s, await this.state(s)] as const));
      const waiting = states.filter(([, st]) => !st.running || (st.health !== undefined && st.health !== 'healthy'));
      if (waiting.length > 0) throw new Error(waiting.map(([s, st]) => `${s}: ${st.health ?? 'stopped'}`).join(', '));
    });
  }

  /**
   * Starts recording what the engine reports of this project's containers (each start and health change, by
   * service); stop() ends it and returns them, oldest first. Recorded live rather than asked of the engine's
   * history afterwards: the engine keeps only its last 256 events, and the healthchecks' own exec events of a
   * slow start push the first starts and health changes out of it.
   */
  recordEvents(): { stop(): Promise<ComposeEvent[]> } {
    const filters = ['type=container', `label=com.docker.compose.project=${this.name}`].flatMap((f) => ['--filter', f]);
    // From a second ago, then live: nothing is lost while the client connects.
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const child = execa(DOCKER, ['events', '--since', since, '--format', '{{json .}}', ...filters], { reject: false });
    return {
      stop: async () => {
        child.kill('SIGTERM');
        const { stdout } = await child;
        return String(stdout ?? '')
          .split('\n')
          .filter(Boolean)
          .map(
            (line) =>
              JSON.parse(line) as { status: string; timeNano: number; Actor: { Attributes: Record<string, string> } },
          )
          .map((e) => ({
            service: e.Actor.Attributes['com.docker.compose.service'] ?? '',
            status: e.status,
            at: e.timeNano / 1e6,
          }));
      },
    };
  }

  /** `docker-compose exec -T service …`: its stdout. */
  exec(service: string, command: string[]): Promise<string> {
    return this.compose(['exec', '-T', service, ...command]);
  }

  /** The service's logs, for a failure report. */
  logs(service: string, tail = 40): Promise<string> {
    return this.compose(['logs', '--no-color', '--tail', String(tail), service]);
  }
}

async function emptyEnvFile(name: string): Promise<string> {
  const file = path.join(os.tmpdir(), `evergreen-compose-${name}.env`);
  await writeFile(file, '');
  return file;
}
