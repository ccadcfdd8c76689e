import { createServer } from 'node:net';
import { execa } from 'execa';

export interface PortUse {
  port: number;
  /** e.g. "NGINX (HTTP_PORT)": the process and the variable that moves it. */
  what: string;
}

/** Fails, naming every port that is listed twice or already taken (and by whom, when ss can tell). */
export async function assertPortsFree(host: string, uses: PortUse[]): Promise<void> {
  const problems: string[] = [];
  const seen = new Map<number, string>();
  for (const { port, what } of uses) {
    const other = seen.get(port);
    if (other) problems.push(`port ${port} is given to both ${other} and ${what}`);
    seen.set(port, what);
  }
  for (const { port, what } of uses) {
    if (await isFree(host, port)) continue;
    const holder = await whoListensOn(port);
    problems.push(`port ${port} for ${what} is already taken${holder ? ` by ${holder}` : ''}`);
  }
  if (problems.length > 0) {
    const hints =
      'Stop what holds it (`npm run down` stops a stack left from an earlier run), ' +
      'or move the stack with the variable named (see .env.example).';
    throw new Error(`Cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}\n${hints}`);
  }
}

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** "redis-server (pid 42)" from ss, when it is installed and allowed to see the owner. */
async function whoListensOn(port: number): Promise<string | undefined> {
  const { stdout, failed } = await execa('ss', ['-ltnpH', `sport = :${port}`], { reject: false });
  const match = failed ? null : /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
  return match ? `${match[1]} (pid ${match[2]})` : undefined;
}

// Below the OS's range for outgoing connections (32768-60999): a port chosen there and released may be taken
// by any client's socket a moment later. Random in this band, so parallel test files rarely race for one.
const PORT_BAND = { from: 20_000, to: 32_767 };

const listenOn = (port: number) =>
  new Promise<ReturnType<typeof createServer> | undefined>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

/** n distinct loopback ports below 32768 that were free a moment ago (all held open at once, so no repeats). */
export async function freePorts(n: number): Promise<number[]> {
  const held = new Map<number, ReturnType<typeof createServer>>();
  for (let tries = 0; held.size < n; tries++) {
    if (tries > 1000) throw new Error(`no ${n} free ports between ${PORT_BAND.from} and ${PORT_BAND.to}`);
    const port = PORT_BAND.from + Math.floor(Math.random() * (PORT_BAND.to - PORT_BAND.from + 1));
    if (held.has(port)) continue;
    const server = await listenOn(port);
    if (server) held.set(port, server);
  }
  await Promise.all([...held.values()].map((server) => new Promise((resolve) => server.close(resolve))));
  return [...held.keys()];
}
