import { execa } from 'execa';
import { DOCKER } from '../stack/compose/docker-cli.js';
import { nodeContainer, nodeIndexes, type SwarmLayout } from './layout.js';

export interface NodeDockerOptions {
  timeoutMs?: number;
  /** Written to the command's stdin (docker secret create NAME -). */
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
}

/** `docker ARGS` run by node i's own engine (docker exec into the node container); its stdout, trimmed. */
export async function nodeDocker(container: string, args: string[], opts: NodeDockerOptions = {}): Promise<string> {
  const exec = ['exec', ...(opts.input === undefined ? [] : ['-i'])];
  for (const [name, value] of Object.entries(opts.env ?? {})) exec.push('-e', `${name}=${value}`);
  if (opts.cwd) exec.push('-w', opts.cwd);
  const result = await execa(DOCKER, [...exec, container, 'docker', ...args], {
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
  if (result.exitCode !== 0 || result.timedOut) {
    const why = result.timedOut ? 'timed out' : (result.stderr || result.stdout).trim().split('\n').at(-1);
    throw new Error(`${container}: docker ${args.slice(0, 3).join(' ')} failed: ${why}`);
  }
  return result.stdout.trim();
}

/** The host engine's view of a node container: running, paused, exited, or missing. */
export async function containerState(container: string): Promise<string> {
  const result = await execa(DOCKER, ['inspect', '--format', '{{.State.Status}}', container], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : 'missing';
}

/**
 * The answer of the first node whose engine answers `docker ARGS` as a manager with a leader, trying each in turn
 * (a dead or frozen node fails fast, a cut-off one has no leader): status and the drill must answer while a
 * node is down. Rejects with every node's reason when none answers.
 */
export async function askManagers(l: SwarmLayout, args: string[], timeoutMs = 5000): Promise<string> {
  const problems: string[] = [];
  for (const i of nodeIndexes(l)) {
    const container = nodeContainer(l, i);
    if ((await containerState(container)) !== 'running') {
      problems.push(`${container} is not running`);
      continue;
    }
    try {
      return await nodeDocker(container, args, { timeoutMs });
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  throw new Error(`no manager answers: ${problems.join('; ')}`);
}

export interface TaskRow {
  service: string;
  node: string;
  state: string;
}

/** Every task meant to run now (desired state running), with its node and current state. */
export async function runningTasks(l: SwarmLayout, stack: string): Promise<TaskRow[]> {
  const format = '{{.Name}}|{{.Node}}|{{.CurrentState}}';
  const out = await askManagers(l, ['stack', 'ps', stack, '--filter', 'desired-state=running', '--format', format]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', node = '', state = ''] = line.split('|');
      return { service: name.replace(new RegExp(`^${stack}_`), '').replace(/\..*$/, ''), node, state };
    });
}
