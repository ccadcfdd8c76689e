import path from 'node:path';
import { execa } from 'execa';
import which from 'which';

/** The Debian packages the local stack runs, by the program each provides. */
const STACK = [
  { program: 'redis-server', pkg: 'redis-server' },
  { program: 'redis-sentinel', pkg: 'redis-sentinel' },
  { program: 'nginx', pkg: 'nginx' },
  // Monitoring (stack/monitoring/); promtool and amtool come with the first two.
  { program: 'prometheus', pkg: 'prometheus' },
  { program: 'prometheus-alertmanager', pkg: 'prometheus-alertmanager' },
  { program: 'prometheus-redis-exporter', pkg: 'prometheus-redis-exporter' },
  { program: 'prometheus-nginx-exporter', pkg: 'prometheus-nginx-exporter' },
] as const;

/** What the tests need beyond the stack: Debian's docker-compose validates compose.yml without an engine. */
export const TEST_PACKAGES = [
  ...STACK,
  { program: 'docker-compose', pkg: 'docker-compose' },
  // The benchmarks' load generator (the suite runs a smoke run of npm run bench).
  { program: 'wrk', pkg: 'wrk' },
  // The headless browser that opens the drill's and the bench's HTML pages (test/report-pages).
  { program: 'chromium', pkg: 'chromium' },
] as const;

type Need = { program: string; pkg: string };
type Program = (typeof STACK)[number]['program'];

// A non-root PATH often lacks the sbin folders, where Debian puts nginx.
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The absolute path of a program, or undefined when it is not installed. */
export async function findProgram(program: string, searchPath = process.env.PATH ?? ''): Promise<string | undefined> {
  const dirs = [...searchPath.split(path.delimiter).filter(Boolean), ...SBIN];
  return (await which(program, { path: dirs.join(path.delimiter), nothrow: true })) ?? undefined;
}

/**
 * Installs what is missing with apt-get when root (recommends left out: they drag in unrelated daemons);
 * otherwise fails with the exact command to run. Returns every program's absolute path.
 */
export async function ensureSystemPackages(log: (msg: string) => void): Promise<Record<Program, string>> {
  await installMissing(STACK, log);
  const paths = await Promise.all(STACK.map(async ({ program }) => [program, await findProgram(program)] as const));
  return Object.fromEntries(paths) as Record<Program, string>;
}

export async function installMissing(needed: readonly Need[], log: (msg: string) => void): Promise<void> {
  let missing = await missingPrograms(needed);
  if (missing.length > 0) {
    const pkgs = missing.map((m) => m.pkg);
    const install = ['install', '-y', '--no-install-recommends', ...pkgs];
    const aptGet = await findProgram('apt-get');
    if (!aptGet)
      throw new Error(
        `Missing programs ${missing.map((m) => m.program).join(', ')}: ` +
          'install Redis 7 (server and Sentinel), NGINX, Prometheus, Alertmanager and the Redis and NGINX ' +
          "exporters with this system's package manager.",
      );
    if (process.getuid?.() !== 0) {
      throw new Error(
        `Missing system packages: ${pkgs.join(', ')}. Install them with:\n` +
          `  sudo apt-get update && sudo apt-get ${install.join(' ')}`,
      );
    }
    log(`installing ${pkgs.join(', ')} with apt-get (about 30 s)`);
    const options = { stdio: 'inherit', env: { DEBIAN_FRONTEND: 'noninteractive' } } as const;
    await execa(aptGet, ['update'], options);
    await execa(aptGet, install, options);
    missing = await missingPrograms(needed);
    if (missing.length > 0)
      throw new Error(
        `apt-get installed ${pkgs.join(', ')} but ${missing.map((m) => m.program).join(', ')} is still not found`,
      );
  }
}

async function missingPrograms(needed: readonly Need[]) {
  const found = await Promise.all(needed.map(async (need) => ({ ...need, at: await findProgram(need.program) })));
  return found.filter((f) => f.at === undefined);
}
