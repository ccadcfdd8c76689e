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
    const hints = 'Stop what holds it (`npm run down` stops a stack left from an earlier run), or move the stack with the variable named (see .env.example).';
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
