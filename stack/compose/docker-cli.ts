import { access } from 'node:fs/promises';
import { execa } from 'execa';

/** Debian's docker.io client, by full path: /usr/local/bin/docker can be an unrelated client that comes first. */
export const DOCKER = '/usr/bin/docker';

/** The engine's version; fails with what to do when the client is missing or the engine does not answer. */
export async function assertDockerReachable(): Promise<string> {
  try {
    await access(DOCKER);
  } catch {
    throw new Error(`${DOCKER} not found: install Debian's docker.io (apt-get install -y docker.io).`);
  }
  // `docker version` (unlike `docker info --format`) says plainly why it cannot reach the engine.
  const probe = await execa(DOCKER, ['version', '--format', '{{.Server.Version}}'], { reject: false, timeout: 15_000 });
  if (probe.exitCode !== 0 || !probe.stdout.trim()) {
    const why = (probe.stderr || probe.stdout || `exit code ${probe.exitCode}`).trim().split('\n').at(-1);
    throw new Error(`Docker is not reachable: ${why}\nStart the engine (dockerd, /var/run/docker.sock) and retry.`);
  }
  return probe.stdout.trim();
}

/** An image's id and labels, or undefined when no image has that name. */
export async function inspectImage(name: string): Promise<{ id: string; labels: Record<string, string> } | undefined> {
  const format = '{{json .Id}} {{json .Config.Labels}}';
  const result = await execa(DOCKER, ['image', 'inspect', '--format', format, name], { reject: false });
  if (result.exitCode !== 0) return undefined;
  const out = result.stdout.trim();
  const space = out.indexOf(' ');
  const labels = JSON.parse(out.slice(space + 1)) as Record<string, string> | null;
  return { id: JSON.parse(out.slice(0, space)) as string, labels: labels ?? {} };
}

/** Removes the image a rebuild replaced, unless the rebuild gave the same image back or something still uses it. */
export async function removeReplaced(oldId: string, name: string): Promise<void> {
  if ((await inspectImage(name))?.id === oldId) return;
  await execa(DOCKER, ['image', 'rm', oldId], { reject: false });
}

/**
 * Runs a docker (or any) command, passing each output line to onLine; on failure the error carries the last
 * lines of output, so an apt-get or npm error is visible without the whole build log.
 */
export async function runStreaming(
  file: string,
  args: string[],
  onLine: (line: string) => void,
  env: Record<string, string> = {},
): Promise<void> {
  const child = execa(file, args, { all: true, buffer: false, reject: false, env });
  const tail: string[] = [];
  for await (const line of child.iterable({ from: 'all' })) {
    tail.push(line);
    if (tail.length > 30) tail.shift();
    onLine(line);
  }
  const { exitCode } = await child;
  if (exitCode !== 0)
    throw new Error(`${file} ${args.slice(0, 2).join(' ')} failed (${exitCode}):\n${tail.join('\n')}`);
}
