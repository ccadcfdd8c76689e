import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  dockerCompose,
  dockerfileStages,
  environment,
  loadCompose,
  mounts,
  placeholders,
  repoRoot,
  type Service,
} from './helpers/compose.js';
import { renderTemplate } from '../stack/processes/template.js';

const compose = loadCompose();
const services = Object.entries(compose.services);
const named = (prefix: string) => services.filter(([name]) => name.startsWith(prefix));
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const SECRETS = { REDIS_PASSWORD: 'redis-secret', SENTINEL_PASSWORD: 'sentinel-secret', JWT_SECRET: 'j'.repeat(32) };
const SENTINEL_PORT = 26379;

t.test(
  "docker-compose (Debian's 1.29.2 in CI) accepts compose.yml, and refuses to run it without each secret",
  async (t) => {
    const emptyEnvFile = path.join(t.testdir(), 'empty.env');
    writeFileSync(emptyEnvFile, '');
    const valid = dockerCompose(['config', '-q'], SECRETS, emptyEnvFile);
    t.equal(valid.status, 0, `docker-compose config -q: ${valid.output}`);
    for (const secret of Object.keys(SECRETS)) {
      const { [secret]: _, ...others } = SECRETS as Record<string, string>;
      const missing = dockerCompose(['config', '-q'], others, emptyEnvFile);
      t.not(missing.status, 0, `without ${secret}`);
      t.match(missing.output, `set ${secret} in .env`, `the error names ${secret}`);
    }
  },
);

t.test('the deployment has its services, and only NGINX is published', async (t) => {
  t.same(Object.keys(compose.services).sort(), [
    'api-1',
    'api-2',
    'nginx',
    'redis-1',
    'redis-2',
    'redis-3',
    'sentinel-1',
    'sentinel-2',
    'sentinel-3',
  ]);
  for (const [name, service] of services) {
    if (name === 'nginx') t.same(service.ports, ['${HTTP_PORT:-8080}:8080'], 'nginx publishes HTTP_PORT');
    else t.notOk(service.ports, `${name} publishes no port`);
  }
});

t.test('every service restarts, has a healthcheck, and waits for its dependencies to be healthy', async (t) => {
  const dockerfileHealthcheck = dockerfileStages(read('Dockerfile'))
    .at(-1)
    ?.instructions.some((line) => /^HEALTHCHECK\s+.*CMD/.test(line));
  for (const [name, service] of services) {
    t.equal(service.restart, 'unless-stopped', `${name} restarts`);
    const own = Boolean(service.healthcheck?.test) && !service.healthcheck?.disable;
    t.ok(own || (service.build === '.' && dockerfileHealthcheck), `${name} has a healthcheck (its own or its image's)`);
    const deps = service.depends_on ?? {};
    t.notOk(Array.isArray(deps), `${name}: depends_on states conditions`);
    for (const [dep, { condition } = {}] of Object.entries(deps))
      t.equal(condition, 'service_healthy', `${name} waits for ${dep} to be healthy`);
  }
});

t.test('each Redis node and Sentinel keeps its state in a named volume of its own', async (t) => {
  const stateful = [...named('redis-'), ...named('sentinel-')];
  t.equal(stateful.length, 6);
  const owners = new Map<string, string[]>();
  for (const [name, service] of services) {
    for (const m of mounts(service).filter((m) => !m.bind))
      owners.set(m.source, [...(owners.get(m.source) ?? []), name]);
  }
  for (const [name, service] of stateful) {
    const data = mounts(service).find((m) => m.target === '/data');
    t.ok(data && !data.bind, `${name} mounts a named volume at /data`);
    if (!data) continue;
    t.ok(compose.volumes && data.source in compose.volumes, `${data.source} is declared`);
    t.same(owners.get(data.source), [name], `${data.source} belongs to ${name} alone`);
  }
});

t.test("the containers run the repo's config files, read-only, and every mounted file exists", async (t) => {
  const expects = (service: Service, source: string, target: string) =>
    mounts(service).some((m) => m.bind && path.normalize(m.source) === source && m.target === target && m.readOnly);
  for (const [name, service] of named('redis-'))
    t.ok(expects(service, 'redis/redis.conf', '/usr/local/etc/redis/redis.conf'), `${name} runs redis/redis.conf`);
  for (const [name, service] of named('sentinel-')) {
    t.ok(
      expects(service, 'sentinel/sentinel.conf', '/usr/local/etc/redis/sentinel.conf.template'),
      `${name} renders sentinel/sentinel.conf`,
    );
  }
  t.ok(
    expects(compose.services.nginx as Service, 'nginx/nginx.conf', '/etc/nginx/templates/nginx.conf.template'),
    'nginx renders nginx/nginx.conf',
  );
  for (const [name, service] of services) {
    for (const m of mounts(service).filter((m) => m.bind)) {
      t.ok(existsSync(path.join(repoRoot, m.source)), `${name}: ${m.source} exists`);
      t.ok(m.readOnly, `${name}: ${m.source} is mounted read-only`);
    }
  }
});

t.test('every ${NAME} of the Sentinel and NGINX templates gets a value in Compose', async (t) => {
  for (const [name, service] of named('sentinel-')) {
    const env = environment(service);
    for (const placeholder of placeholders(read('sentinel/sentinel.conf')))
      t.ok(placeholder in env, `${name} sets ${placeholder}`);
  }
  const nginxEnv = environment(compose.services.nginx as Service);
  // The image's envsubst, unlike the launchers' renderer, keeps a line whose value is empty.
  for (const placeholder of placeholders(read('nginx/nginx.conf')))
    t.ok(nginxEnv[placeholder], `nginx sets ${placeholder} to a value`);
  for (const [name, service] of named('sentinel-'))
    t.equal(environment(service).SENTINEL_ANNOUNCE_HOST, name, `${name} announces its own name`);
});

t.test('the Sentinel entrypoint renders its template exactly as the local stack does', async (t) => {
  const template = read('sentinel/sentinel.conf');
  const render = (vars: Record<string, string>) =>
    spawnSync('awk', ['-f', 'docker/render-template.awk', 'sentinel/sentinel.conf'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, ...vars },
      encoding: 'utf8',
    });
  const values = Object.fromEntries([...placeholders(template)].map((name) => [name, `v-${name}`]));
  const cases: [string, Record<string, string>][] = [
    ['every value set', values],
    [
      'no passwords and no pidfile: their lines left out',
      { ...values, SENTINEL_PASSWORD: '', REDIS_PASSWORD: '', SENTINEL_PIDFILE: '' },
    ],
  ];
  for (const [what, vars] of cases) {
    const rendered = render(vars);
    t.equal(rendered.status, 0, rendered.stderr);
    t.equal(rendered.stdout, renderTemplate('sentinel/sentinel.conf', template, vars), what);
  }
  const { MASTER_HOST: _, ...withoutHost } = values;
  const missing = render(withoutHost);
  t.not(missing.status, 0, 'an unset name fails the start');
  t.match(missing.stderr, 'no value for ${MASTER_HOST}');
});

t.test('the API instances find Redis through every Sentinel, in production mode', async (t) => {
  const sentinels = named('sentinel-').map(([name]) => `${name}:${SENTINEL_PORT}`);
  for (const [name, service] of named('api-')) {
    const env = environment(service);
    t.same(env.SENTINELS?.split(',').sort(), sentinels, `${name} lists every Sentinel`);
    t.match(env, { NODE_ENV: 'production', HOST: '0.0.0.0' }, `${name} runs in production on every interface`);
    t.equal(service.build, '.', `${name} is built from the Dockerfile`);
  }
  for (const [name, service] of named('sentinel-'))
    t.equal(environment(service).SENTINEL_PORT, String(SENTINEL_PORT), `${name} listens where the APIs look`);
});

t.test('the Dockerfile builds in one stage and runs production dependencies only, as a non-root user', async (t) => {
  const stages = dockerfileStages(read('Dockerfile'));
  t.ok(stages.length >= 2, 'multi-stage');
  const [build, runtime] = [stages[0], stages.at(-1)];
  t.ok(
    build?.instructions.some((line) => /^RUN npm ci\b(?!.*--omit=dev)/.test(line)),
    'the build stage installs dev dependencies',
  );
  t.ok(
    build?.instructions.some((line) => /^RUN .*npm run build/.test(line)),
    'the build stage compiles',
  );
  t.ok(
    runtime?.instructions.some((line) => /^RUN npm ci\b.*--omit=dev/.test(line)),
    'the runtime stage installs production dependencies only',
  );
  t.ok(
    runtime?.instructions.some((line) => line.startsWith(`COPY --from=${build?.name} `) && line.includes('dist')),
    'the runtime stage takes the compiled dist/',
  );
  const user = runtime?.instructions
    .filter((line) => /^USER\s/.test(line))
    .at(-1)
    ?.split(/\s+/)[1];
  t.ok(user && !/^(root|0)(:|$)/.test(user), `the runtime user is not root (${user})`);
  t.ok(
    runtime?.instructions.some((line) => /^HEALTHCHECK\s.*\/health\/(live|ready)/.test(line)),
    'a HEALTHCHECK probes /health',
  );
  t.ok(
    runtime?.instructions.some((line) => /^CMD\s.*dist\/server\.js/.test(line)),
    'it runs dist/server.js',
  );
  const ignored = read('.dockerignore').split('\n');
  t.ok(
    ignored.includes('*') ? !ignored.includes('!.env') : ignored.includes('.env'),
    '.env stays out of the build context',
  );
});
