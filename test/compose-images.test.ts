import t, { type Test } from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { DOCKER } from '../stack/compose/docker-cli.js';
import { folderHash } from '../stack/compose/folder-hash.js';
import { buildStandInImages, decide, standInHash, summaryTable } from '../stack/compose/images.js';
import {
  BASE_IMAGE,
  BASE_LABEL,
  HASH_LABEL,
  IMAGES_DIR,
  NO_STAND_IN,
  STAND_IN_LABEL,
  STAND_INS,
} from '../stack/compose/stand-ins.js';
import { waitFor } from '../stack/helpers/wait.js';
import { argv, environment, mounts, repoRoot, type Service } from './helpers/compose.js';
import { read, SECRETS, serviceNamed } from './helpers/compose-services.js';
import { engineForTests } from './helpers/compose-run.js';

/**
 * The stand-ins for the official images compose.yml uses (npm run compose:images): tagged as its defaults, cached
 * by content, and run here as Compose runs them (its entrypoints, commands, environment, mounts, healthchecks).
 */

// A first build (debootstrap, then apt-get for each image) takes a few minutes; a cached run, seconds.
t.setTimeout(600_000);

t.test("each stand-in carries exactly compose.yml's default image name", async (t) => {
  const defaults = new Map([...read('compose.yml').matchAll(/\$\{(\w+_IMAGE):-([^}]+)\}/g)].map((m) => [m[1], m[2]]));
  for (const { variable, tag } of [...STAND_INS, ...NO_STAND_IN]) t.equal(defaults.get(variable), tag, variable);
  t.same(
    [...defaults.keys()].sort(),
    [...STAND_INS, ...NO_STAND_IN].map((s) => s.variable).sort(),
    'every image compose.yml names has a stand-in or a reason why not',
  );
});

t.test('each Dockerfile is FROM the base, labelled with its official name, with no apt lists left', async (t) => {
  for (const { folder, tag } of STAND_INS) {
    const dockerfile = readFileSync(path.join(IMAGES_DIR, folder, 'Dockerfile'), 'utf8');
    t.match(dockerfile, new RegExp(`^FROM ${BASE_IMAGE}$`, 'm'), `${folder} is FROM ${BASE_IMAGE}`);
    t.match(dockerfile, `\nLABEL ${STAND_IN_LABEL}=${tag}\n`, `${folder} says it stands in for ${tag}`);
    t.match(dockerfile, 'apt-get install -y --no-install-recommends', `${folder}: no recommends`);
    t.match(dockerfile, 'rm -rf /var/lib/apt/lists/*', `${folder}: apt lists cleaned`);
  }
});

t.test("the cache follows a folder's contents, and an image that is not a stand-in is never replaced", async (t) => {
  const dir = t.testdir({ Dockerfile: 'FROM scratch\n', 'entry.sh': 'exit 0\n' });
  const first = await folderHash(dir);
  t.equal(await folderHash(dir), first, 'the same files, the same hash');
  chmodSync(path.join(dir, 'entry.sh'), 0o755);
  const executable = await folderHash(dir);
  t.not(executable, first, 'an exec bit changes it');
  writeFileSync(path.join(dir, 'entry.sh'), 'exit 1\n');
  t.not(await folderHash(dir), executable, 'a byte changes it');
  t.not(await folderHash(dir, ['NODE_VERSION=1']), await folderHash(dir), 'a build argument changes it');

  const standIn = { [STAND_IN_LABEL]: 'redis:7.0', [HASH_LABEL]: 'abc' };
  t.equal(decide(undefined, 'abc', false), 'build', 'no image: built');
  t.equal(decide(standIn, 'abc', false), 'cached', 'same hash: kept');
  t.equal(decide(standIn, 'def', false), 'build', 'another hash: rebuilt');
  t.equal(decide(standIn, 'abc', true), 'build', 'forced: rebuilt');
  t.equal(decide({ maintainer: 'official' }, 'abc', true), 'skipped', 'an official image: left alone, even forced');
  t.equal(decide({}, 'abc', false), 'skipped', 'an image without labels: left alone');
});

t.test('the stand-in images, run as compose.yml runs them', async (t) => {
  if (!(await engineForTests(t))) return;
  const reports = await buildStandInImages(() => {});
  t.comment(summaryTable(reports).join('\n'));
  const standIn = (tag: string) => reports.find((r) => r.image === tag)?.outcome !== 'skipped';

  t.test('labels and image config', async (t) => {
    t.equal((await imageConfig(BASE_IMAGE)).Labels[BASE_LABEL], 'debian:bookworm-slim', 'the base is ours');
    for (const s of STAND_INS.filter((s) => standIn(s.tag))) {
      const config = await imageConfig(s.tag);
      t.equal(config.Labels[STAND_IN_LABEL], s.tag, `${s.tag}: ${STAND_IN_LABEL}`);
      t.equal(config.Labels[HASH_LABEL], await standInHash(s), `${s.tag}: built from the files as they are`);
      const expected = CONFIG[s.tag] ?? {};
      const actual = { ...config, Volumes: Object.keys(config.Volumes ?? {}) };
      for (const [key, value] of Object.entries(expected)) t.same(actual[key as keyof typeof actual], value, key);
    }
  });

  t.test(
    'redis:7.0: the programs the scripts call; nodes and Sentinels run as redis',
    { skip: skip('redis:7.0') },
    async (t) => {
      const found = await run(
        'redis:7.0',
        ['-c', `for c in ${REDIS_PROGRAMS}; do command -v "$c" || exit 1; done`],
        ['--entrypoint', 'sh'],
      );
      t.equal(found.split('\n').length, REDIS_PROGRAMS.split(' ').length, found);
      t.match(await run('redis:7.0', ['redis-server', '--version']), /v=7\.0\./);
      const node = await startService(t, 'redis-1');
      await healthy(node, 'redis-1');
      t.match(await exec(node, ['cat', '/proc/1/status']), /^Uid:\s+999\s/m, 'redis-server runs as redis (999)');
      t.equal(await exec(node, ['stat', '-c', '%U', '/data/redis-node.conf']), 'redis', 'its config handed to redis');
      const sentinel = await startService(t, 'sentinel-1', ['--add-host', 'redis-1:127.0.0.1']);
      const ping = ['sh', '-c', 'REDISCLI_AUTH="$SENTINEL_PASSWORD" redis-cli -p 26379 ping'];
      t.equal(await printing(sentinel, ping, /^PONG$/), 'PONG', 'Sentinel answers');
      t.match(await exec(sentinel, ['cat', '/proc/1/status']), /^Uid:\s+999\s/m, 'the Sentinel runs as redis');
    },
  );

  t.test(
    'nginx: templates rendered with only defined variables; its exporter',
    { skip: skip('nginx:1.22-alpine') },
    async (t) => {
      const templates = t.testdir({ 'x.conf.template': '# ${EVERGREEN_UNSET}\nset $a "${EVERGREEN_SET} $host";\n' });
      const mountAt = ['-v', `${templates}:/etc/nginx/templates:ro`, '--tmpfs', '/tmp/out'];
      const rendered = await run(
        'nginx:1.22-alpine',
        ['-c', '/docker-entrypoint.sh nginx -v >/dev/null 2>&1 && cat /tmp/out/x.conf'],
        ['--entrypoint', 'sh', '-e', 'EVERGREEN_SET=yes', '-e', 'NGINX_ENVSUBST_OUTPUT_DIR=/tmp/out', ...mountAt],
      );
      t.equal(rendered, '# ${EVERGREEN_UNSET}\nset $a "yes $host";', 'defined: substituted; others: kept');
      const nginx = await startService(t, 'nginx', ['--add-host', 'api-1:127.0.0.1', '--add-host', 'api-2:127.0.0.1']);
      await healthy(nginx, 'nginx');
      const conf = await exec(nginx, ['cat', '/etc/nginx/nginx.conf']);
      t.match(conf, 'listen 8080;', "nginx/nginx.conf rendered into compose's NGINX_ENVSUBST_OUTPUT_DIR");
      t.match(conf, '$http_x_request_id', "NGINX's own variables kept");
      const links = await exec(nginx, ['readlink', '/var/log/nginx/access.log', '/var/log/nginx/error.log']);
      t.equal(links, '/dev/stdout\n/dev/stderr', 'logs go to docker logs');

      if (!standIn('nginx/nginx-prometheus-exporter:0.11.0')) return;
      // compose.yml's flags, scraping this NGINX from its own network namespace.
      const flags = argv(serviceNamed('nginx-exporter').command).map((f) => f.replace('//nginx:', '//127.0.0.1:'));
      await start(t, 'nginx/nginx-prometheus-exporter:0.11.0', [`--network=container:${nginx}`], flags);
      const metrics = ['wget', '-q', '-O', '-', 'http://127.0.0.1:9113/metrics'];
      t.match(await printing(nginx, metrics, /^nginx_up 1$/m), /^nginx_up 1$/m, 'nginx-exporter scrapes NGINX');
    },
  );

  t.test('node: Node 20 and npm, the node user, the alert log', { skip: skip('node:20-bookworm-slim') }, async (t) => {
    const { NODE_VERSION, NPM_VERSION } = STAND_INS.find((s) => s.folder === 'node')?.buildArgs ?? {};
    const script = 'node -e "console.log(process.version)"; npm --version; npx --version; id -u node; id -g node;';
    const facts = await run('node:20-bookworm-slim', ['sh', '-c', `${script} echo ~node`]);
    t.same(facts.split('\n'), [`v${NODE_VERSION}`, NPM_VERSION, NPM_VERSION, '1000', '1000', '/home/node']);
    t.equal(await run('node:20-bookworm-slim', ['-p', '6 * 7']), '42', 'a flag goes to node, as officially');
    const alertLog = await startService(t, 'alert-log');
    await healthy(alertLog, 'alert-log');
    t.equal(await exec(alertLog, ['id', '-un']), 'node');
  });

  t.test(
    "prometheus: version, nobody, ready with compose.yml's flags",
    { skip: skip('prom/prometheus:v2.42.0') },
    async (t) => {
      t.match(await run('prom/prometheus:v2.42.0', ['--version']), /version 2\.42\.0/);
      t.match(await run('prom/prometheus:v2.42.0', [], ['--entrypoint', 'id']), /^uid=65534\(nobody\)/);
      await healthy(await startService(t, 'prometheus'), 'prometheus', 30_000);
    },
  );

  t.test(
    'alertmanager: docker/alertmanager.sh renders and runs it',
    { skip: skip('prom/alertmanager:v0.25.0') },
    async (t) => {
      t.match(await run('prom/alertmanager:v0.25.0', ['--version']), /version 0\.25\.0/);
      const alertmanager = await startService(t, 'alertmanager');
      await healthy(alertmanager, 'alertmanager');
      t.equal(await exec(alertmanager, ['id', '-un']), 'nobody');
      t.match(await exec(alertmanager, ['cat', '/alertmanager/alertmanager.yml']), 'http://alert-log:9099/alerts');
    },
  );

  t.test('redis_exporter: 59000, reads its address from the environment', { skip: skip(REDIS_EXPORTER) }, async (t) => {
    t.match(await run(REDIS_EXPORTER, ['--version']), /Exporter v?1\.45\.0/);
    t.match(await run(REDIS_EXPORTER, [], ['--entrypoint', 'id']), /^uid=59000 gid=59000/);
    // compose.yml's REDIS_ADDR names redis-1: a node of its own, by that name.
    const node = await startService(t, 'redis-1');
    const ip = await docker(['inspect', '--format', '{{.NetworkSettings.IPAddress}}', node]);
    const exporter = await startService(t, 'redis-exporter', ['--add-host', `redis-1:${ip}`]);
    await healthy(exporter, 'redis-exporter');
    await healthy(node, 'redis-1');
    const metrics = await exec(exporter, ['wget', '-q', '-O', '-', 'http://127.0.0.1:9121/metrics']);
    t.match(metrics, /^redis_up 1$/m, "REDIS_ADDR and REDIS_PASSWORD read; listening on compose.yml's address");
  });

  t.test('nginx-prometheus-exporter: version, nobody', { skip: skip(NGINX_EXPORTER) }, async (t) => {
    t.match(await run(NGINX_EXPORTER, ['--version']), /version=0\.11\.0/);
    t.match(await run(NGINX_EXPORTER, [], ['--entrypoint', 'id']), /^uid=65534\(nobody\)/);
  });

  function skip(tag: string): string | false {
    return standIn(tag) ? false : `${tag} is an official image here, not a stand-in`;
  }
});

const REDIS_PROGRAMS = 'sh awk grep redis-cli redis-server docker-entrypoint.sh';
const REDIS_EXPORTER = 'oliver006/redis_exporter:v1.45.0-alpine';
const NGINX_EXPORTER = 'nginx/nginx-prometheus-exporter:0.11.0';

interface ImageConfig {
  Labels: Record<string, string>;
  Entrypoint: string[] | null;
  Cmd: string[] | null;
  User: string;
  WorkingDir: string;
  Volumes: Record<string, unknown> | null;
  StopSignal?: string;
}

/** What the official images set, where compose.yml or docker/*.sh rely on it. */
const CONFIG: Record<string, Partial<Omit<ImageConfig, 'Volumes'> & { Volumes: string[] }>> = {
  'redis:7.0': { Entrypoint: ['docker-entrypoint.sh'], Cmd: ['redis-server'], WorkingDir: '/data', Volumes: ['/data'] },
  'nginx:1.22-alpine': {
    Entrypoint: ['/docker-entrypoint.sh'],
    Cmd: ['nginx', '-g', 'daemon off;'],
    StopSignal: 'SIGQUIT',
  },
  'node:20-bookworm-slim': { Entrypoint: ['docker-entrypoint.sh'], Cmd: ['node'], User: '' },
  'prom/prometheus:v2.42.0': {
    Entrypoint: ['/bin/prometheus'],
    User: 'nobody',
    WorkingDir: '/prometheus',
    Volumes: ['/prometheus'],
  },
  'prom/alertmanager:v0.25.0': {
    Entrypoint: ['/bin/alertmanager'],
    Cmd: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
    User: 'nobody',
    WorkingDir: '/alertmanager',
    Volumes: ['/alertmanager'],
  },
  [REDIS_EXPORTER]: { Entrypoint: ['/redis_exporter'], User: '59000:59000' },
  [NGINX_EXPORTER]: { Entrypoint: ['/usr/bin/nginx-prometheus-exporter'], User: 'nobody' },
};

async function docker(args: string[]): Promise<string> {
  const result = await execa(DOCKER, args, { all: true, reject: false });
  if (result.exitCode !== 0) throw new Error(`docker ${args.join(' ')}: ${result.all}`);
  return result.all.trim();
}

async function imageConfig(image: string): Promise<ImageConfig> {
  return JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config}}', image])) as ImageConfig;
}

/** `docker run --rm` to its end: what it printed. */
function run(image: string, args: string[], options: string[] = []): Promise<string> {
  return docker(['run', '--rm', ...options, image, ...args]);
}

const exec = (id: string, args: string[]) => docker(['exec', id, ...args]);

/** A detached container, removed when the test ends. */
async function start(t: Test, image: string, options: string[], args: string[] = []): Promise<string> {
  const id = await docker(['run', '-d', ...options, image, ...args]);
  t.teardown(() => docker(['rm', '--force', '--volumes', id]).catch(() => undefined));
  return id;
}

/** A compose.yml service's container as Compose would make it: its image, entrypoint, command, env, mounts. */
function startService(t: Test, name: string, extra: string[] = []): Promise<string> {
  const service = serviceNamed(name);
  const options = [...extra];
  for (const [key, value] of Object.entries(environment(service))) options.push('-e', `${key}=${withDefaults(value)}`);
  for (const m of mounts(service).filter((m) => m.bind))
    options.push('-v', `${path.join(repoRoot, m.source)}:${m.target}${m.readOnly ? ':ro' : ''}`);
  if (service.user) options.push('--user', service.user);
  const [entrypoint, ...entryArgs] = argv(service.entrypoint);
  if (entrypoint) options.push('--entrypoint', entrypoint);
  const command = [...entryArgs, ...argv(service.command)].map(withDefaults);
  return start(t, withDefaults(service.image ?? ''), options, command);
}

/** `${NAME:-default}` as its default, `${NAME:?...}` as the test secret. */
function withDefaults(value: string): string {
  return value.replace(
    /\$\{(\w+)(?::-([^}]*)|:\?[^}]*)\}/g,
    (_, name: string, fallback?: string) => fallback ?? (SECRETS as Record<string, string>)[name] ?? '',
  );
}

/** What a command prints in a container once it matches (retried for up to 15 s). */
function printing(id: string, command: string[], pattern: RegExp): Promise<string> {
  return waitFor(`${command.join(' ')} to print ${pattern}`, 15_000, async () => {
    const out = await exec(id, command);
    if (!pattern.test(out)) throw new Error(`it printed: ${out.slice(0, 200)}`);
    return out;
  });
}

/** Waits for a service's compose.yml healthcheck to pass inside its container; its log when it never does. */
async function healthy(id: string, name: string, timeoutMs = 20_000): Promise<void> {
  const [kind, ...test] = argv((serviceNamed(name) as Service).healthcheck?.test);
  const command = kind === 'CMD-SHELL' ? ['sh', '-c', test.join(' ').replaceAll('$$', '$')] : test;
  try {
    let exited: Error | undefined;
    const check = () =>
      exec(id, command).catch(async (err: unknown) => {
        const running = await docker(['inspect', '--format', '{{.State.Running}}', id]);
        if (running !== 'true') exited = new Error(`${name}'s container exited`);
        throw err;
      });
    await waitFor(`${name}'s healthcheck`, timeoutMs, check, () => exited);
  } catch (err) {
    const logs = await docker(['logs', '--tail', '20', id]).catch((e: Error) => e.message);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs}`);
  }
}
