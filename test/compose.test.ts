import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  argv,
  buildContext,
  dockerCompose,
  dockerfileStages,
  envFile,
  environment,
  listenPorts,
  mounts,
  placeholders,
  repoRoot,
  variables,
  type Service,
} from './helpers/compose.js';
import {
  compose,
  services,
  named,
  read,
  SECRETS,
  SENTINEL_PORT,
  NO_HEALTHCHECK,
  STATE_DIRS,
  serviceNamed,
  defaultOf,
  flag,
  resolved,
} from './helpers/compose-services.js';
import { REDIS_CREDENTIAL_LINE, writeConfig } from '../stack/processes/redis.js';
import { renderTemplate } from '../stack/processes/template.js';
import { generateRedisSecrets, usersTemplateVars } from '../stack/helpers/redis-users.js';
import { tempDir } from './helpers/fixtures.js';

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

t.test('the deployment has its services, and only NGINX and Grafana are published', async (t) => {
  t.same(Object.keys(compose.services).sort(), [
    'alert-log',
    'alertmanager',
    'api-1',
    'api-2',
    'grafana',
    'nginx',
    'nginx-exporter',
    'prometheus',
    'redis-1',
    'redis-2',
    'redis-3',
    'redis-exporter',
    'sentinel-1',
    'sentinel-2',
    'sentinel-3',
    'sentinel-exporter',
  ]);
  const published: Record<string, string> = { nginx: '${HTTP_PORT:-8080}:8080', grafana: '${GRAFANA_PORT:-3000}:3000' };
  for (const [name, service] of services) {
    const expected = published[name];
    if (expected) {
      t.same(service.ports, [expected], `${name} publishes ${expected}`);
      const inside = Number(expected.split(':').at(-1));
      t.ok(listenPorts(service).has(inside), `${name} listens on ${inside}, the port it publishes`);
    } else t.notOk(service.ports, `${name} publishes no port`);
  }
});

t.test('every service restarts, has a healthcheck, and waits for its dependencies to be healthy', async (t) => {
  const dockerfileHealthcheck = dockerfileStages(read('Dockerfile'))
    .at(-1)
    ?.instructions.some((line) => /^HEALTHCHECK\s+.*CMD/.test(line));
  for (const [name, service] of services) {
    t.equal(service.restart, 'unless-stopped', `${name} restarts`);
    if (name === NO_HEALTHCHECK) {
      t.same(service.healthcheck, { disable: true }, `${name}: the one exception, stated as such`);
    } else {
      const own = Boolean(service.healthcheck?.test) && !service.healthcheck?.disable;
      const image = buildContext(service) === '.' && dockerfileHealthcheck;
      t.ok(own || image, `${name} has a healthcheck (its own or its image's)`);
    }
    const deps = service.depends_on ?? {};
    t.notOk(Array.isArray(deps), `${name}: depends_on states conditions`);
    for (const [dep, { condition } = {}] of Object.entries(deps)) {
      t.ok(dep in compose.services, `${name} depends on ${dep}, a service`);
      t.equal(condition, 'service_healthy', `${name} waits for ${dep} to be healthy`);
      t.not(dep, NO_HEALTHCHECK, `${name} does not wait for ${dep}, which is never healthy`);
    }
  }
});

t.test('every service says where it listens, and its healthcheck probes that port', async (t) => {
  for (const [name, service] of services) {
    const ports = listenPorts(service);
    t.ok(ports.size > 0, `${name}: its config names its port`);
    const probe = argv(service.healthcheck?.test).join(' ');
    for (const m of probe.matchAll(/(?:127\.0\.0\.1|localhost):(\d+)|redis-cli -p (\d+)/g)) {
      const port = Number(m[1] ?? m[2]);
      t.ok(ports.has(port), `${name}'s healthcheck probes ${port}, where it listens (${[...ports].join(', ')})`);
    }
  }
});

t.test('each stateful service keeps its state in a named volume of its own', async (t) => {
  const owners = new Map<string, string[]>();
  for (const [name, service] of services) {
    for (const m of mounts(service).filter((m) => !m.bind))
      owners.set(m.source, [...(owners.get(m.source) ?? []), name]);
  }
  for (const [name, dir] of Object.entries(STATE_DIRS)) {
    const data = mounts(serviceNamed(name)).find((m) => m.target === dir);
    t.ok(data && !data.bind, `${name} mounts a named volume at ${dir}`);
    if (!data) continue;
    t.ok(compose.volumes && data.source in compose.volumes, `${data.source} is declared`);
    t.same(owners.get(data.source), [name], `${data.source} belongs to ${name} alone`);
  }
  t.same([...owners.keys()].sort(), Object.keys(compose.volumes ?? {}).sort(), 'every declared volume is mounted');
  t.equal(
    flag(argv(serviceNamed('prometheus').command), '--storage.tsdb.path'),
    STATE_DIRS.prometheus,
    'Prometheus keeps its TSDB in its volume',
  );
});

t.test(
  'every container log rotates: json-file, with max-size and max-file from LOG_MAX_SIZE and LOG_MAX_FILE',
  async (t) => {
    const cases: [Record<string, string>, string, string][] = [
      [{}, '10m', '5'],
      [{ LOG_MAX_SIZE: '50m', LOG_MAX_FILE: '3' }, '50m', '3'],
    ];
    for (const [vars, maxSize, maxFile] of cases) {
      const config = resolved(t.testdir(), vars);
      t.same(Object.keys(config.services).sort(), Object.keys(compose.services).sort(), 'Compose sees every service');
      for (const [name, service] of Object.entries(config.services)) {
        t.same(
          service.logging,
          { driver: 'json-file', options: { 'max-size': maxSize, 'max-file': maxFile } },
          `${name} rotates at ${maxSize}, ${maxFile} files kept`,
        );
      }
    }
  },
);

t.test(
  'every image is ${X_IMAGE:-pinned default}, and the API is built on NODE_IMAGE as the Dockerfile is',
  async (t) => {
    const defaults = new Map<string, string>();
    const overridable = (what: string, value: string | undefined) => {
      const m = /^\$\{([A-Z][A-Z0-9_]*_IMAGE):-([^}]+)\}$/.exec(value ?? '');
      t.ok(m, `${what}: ${value} is \${X_IMAGE:-default}`);
      if (!m) return;
      const [, variable = '', image = ''] = m;
      t.match(image, /^[\w./-]+:[\w.-]+$/, `${what}: ${image} names a tag`);
      t.notMatch(image, /:latest$/, `${what}: ${image} is pinned`);
      if (defaults.has(variable)) t.equal(image, defaults.get(variable), `${what}: ${variable} has one default`);
      else defaults.set(variable, image);
    };
    for (const [name, service] of services) {
      if (buildContext(service) === undefined) overridable(name, service.image);
      else {
        const args = typeof service.build === 'object' ? service.build.args : undefined;
        overridable(`${name}'s build`, args?.NODE_IMAGE);
      }
    }
    t.equal(
      defaults.get('NODE_IMAGE'),
      /^ARG NODE_IMAGE=(\S+)$/m.exec(read('Dockerfile'))?.[1],
      "NODE_IMAGE's default is the Dockerfile's",
    );
    t.equal(defaultOf(serviceNamed('alert-log').image), defaults.get('NODE_IMAGE'), 'the alert log runs on it too');
  },
);

t.test(
  '.env.example lists every variable compose.yml reads, with its defaults, and marks the required ones',
  async (t) => {
    const text = read('.env.example');
    const example = envFile(text);
    const lines = text.split('\n');
    /** The comment block above a variable (other variables between them allowed: one comment for a pair). */
    const comment = (name: string) => {
      let i = lines.findIndex((line) => line.startsWith(`${name}=`)) - 1;
      while (i >= 0 && /^[A-Z_]+=/.test(lines[i] ?? '')) i -= 1;
      const block: string[] = [];
      for (; i >= 0 && lines[i]?.startsWith('#'); i -= 1) block.unshift(lines[i] as string);
      return block.join(' ');
    };
    const checked = new Set<string>();
    for (const { name, operator, value } of variables(compose)) {
      if (checked.has(`${name}${operator}${value}`)) continue;
      checked.add(`${name}${operator}${value}`);
      t.ok(example.has(name), `${name} is in .env.example`);
      if (operator.endsWith('?')) {
        t.equal(example.get(name), '', `${name} is required: .env.example ships it empty`);
        t.match(comment(name), /required/i, `${name}'s comment says it is required`);
      } else if (operator.endsWith('-') && value !== '' && example.get(name)) {
        t.equal(example.get(name), value, `${name}: .env.example shows Compose's default`);
      }
    }
    t.ok(checked.size > 20, `compose.yml reads its variables (${checked.size})`);
  },
);

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
  // docker/sentinel.sh makes these itself, from the passwords they name.
  const madeByEntrypoint: Record<string, string> = {
    SERVICE_PASSWORD_SHA256: 'REDIS_PASSWORD',
    EXPORTER_PASSWORD_SHA256: 'REDIS_EXPORTER_PASSWORD',
  };
  for (const [name, service] of named('sentinel-')) {
    const env = environment(service);
    for (const placeholder of placeholders(read('sentinel/sentinel.conf'))) {
      const variable = madeByEntrypoint[placeholder] ?? placeholder;
      t.ok(variable in env, `${name} sets ${variable}`);
    }
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
      { ...values, SENTINEL_PASSWORD: '', REDIS_SENTINEL_PASSWORD: '', SENTINEL_PIDFILE: '' },
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
    t.equal(buildContext(service), '.', `${name} is built from the Dockerfile`);
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

t.test('the Redis node entrypoint renders redis/users.conf as the local stack does', async (t) => {
  const template = read('redis/users.conf');
  const secrets = generateRedisSecrets();
  const vars = usersTemplateVars(secrets, 'eg:');
  t.same([...placeholders(template)].sort(), Object.keys(vars).sort(), 'the stack fills in every name and no other');
  // What docker/redis-node.sh does: each *_SHA256 made by sha256sum, then the template rendered by awk.
  const script = [
    '. docker/config-file.sh',
    ...['SERVICE', 'REPLICATION', 'SENTINEL', 'EXPORTER', 'ADMIN'].map(
      (name) => `export ${name}_PASSWORD_SHA256=$(sha256 "$${name}_PLAIN")`,
    ),
    'awk -f docker/render-template.awk redis/users.conf',
  ].join('\n');
  const shell = spawnSync('sh', ['-c', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      KEY_PREFIX: 'eg:',
      REPLICATION_PASSWORD: secrets.replication,
      SERVICE_PLAIN: secrets.service,
      REPLICATION_PLAIN: secrets.replication,
      SENTINEL_PLAIN: secrets.sentinel,
      EXPORTER_PLAIN: secrets.exporter,
      ADMIN_PLAIN: secrets.admin,
    },
  });
  t.equal(shell.status, 0, shell.stderr);
  t.equal(shell.stdout, renderTemplate('redis/users.conf', template, vars), 'the same lines, the same hashes');
  t.notMatch(shell.stdout, secrets.service, "the service's password is not in clear");
});

t.test("a kept config gets its credential lines renewed, in the shell as in the stack's writeConfig", async (t) => {
  const dir = await tempDir(t, 'renew', async () => undefined);
  const kept = [
    'port 6379',
    'user default off',
    'user evergreen on #old ~eg:* +@all',
    'replicaof redis-2 6379',
    'masterauth "old"',
    '# Generated by CONFIG-REWRITE',
    'save 3600 1',
    '',
  ].join('\n');
  const rendered = ['port 6379', 'replicaof redis-1 6379', 'user default off', 'user evergreen on #new ~eg:*'];
  const fresh = [...rendered, 'masteruser replication', 'masterauth "new"', ''].join('\n');
  const files = { name: 'redis-6379', dir, conf: path.join(dir, 'stack.conf'), log: '', pid: '' };
  writeFileSync(files.conf, kept);
  t.equal(await writeConfig(files, () => fresh, REDIS_CREDENTIAL_LINE), true, 'the stack says it kept the config');
  writeFileSync(path.join(dir, 'shell.conf'), kept);
  writeFileSync(path.join(dir, 'rendered.conf'), fresh);
  const shell = spawnSync(
    'sh',
    ['-c', `. ${repoRoot}/docker/config-file.sh && install_config rendered.conf shell.conf "$PATTERN"`],
    { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, PATTERN: REDIS_NODE_PATTERN } },
  );
  t.equal(shell.status, 0, shell.stderr);
  const stack = readFileSync(files.conf, 'utf8');
  t.equal(readFileSync(path.join(dir, 'shell.conf'), 'utf8'), stack, 'the shell and the stack write the same file');
  t.same(
    stack.split('\n'),
    [
      'port 6379',
      'replicaof redis-2 6379',
      '# Generated by CONFIG-REWRITE',
      'save 3600 1',
      'user default off',
      'user evergreen on #new ~eg:*',
      'masteruser replication',
      'masterauth "new"',
      '',
    ],
    "the role Sentinel chose is kept; every credential line is the fresh render's",
  );
  t.notOk(existsSync(path.join(dir, 'rendered.conf')), 'the rendered copy is removed');
});

/** docker/redis-node.sh's pattern of a credential line, read from the script itself. */
const REDIS_NODE_PATTERN = /install_config \S+ "\$conf" '([^']+)'/.exec(read('docker/redis-node.sh'))?.[1] ?? 'missing';

t.test('API instances, Redis nodes and Sentinels keep fixed addresses, in every node and Sentinel', async (t) => {
  // A Sentinel that re-resolved a restarted node's name to another node's old address, or stalled on a lookup
  // of a stopped container's name, failed over late (docs/operations.md, Docker Compose).
  const file = resolved(t.testdir(), { COMPOSE_SUBNET_PREFIX: '10.9.8' });
  const range = file.networks?.default?.ipam?.config?.[0];
  t.equal(range?.subnet, '10.9.8.0/24', 'the subnet follows COMPOSE_SUBNET_PREFIX');
  t.equal(range?.ip_range, '10.9.8.128/25', 'addresses are handed out from the upper half only');
  const fixed = new Map<string, string>();
  for (const [name] of [...named('api-'), ...named('redis-'), ...named('sentinel-')]) {
    const networks = file.services[name]?.networks;
    const address = networks && !Array.isArray(networks) ? networks.default?.ipv4_address : undefined;
    t.match(address, /^10\.9\.8\.(\d+)$/, `${name} has a fixed address on the subnet`);
    t.ok(Number(address?.split('.')[3]) < 128, `${name}'s address is below the range handed out`, { address });
    fixed.set(name, address ?? '');
  }
  t.equal(new Set(fixed.values()).size, fixed.size, 'no two services share an address');
  const nodesAndSentinels = [...named('redis-'), ...named('sentinel-')].map(([name]) => name);
  const hosts = nodesAndSentinels.map((name) => `${name}:${fixed.get(name)}`).sort();
  for (const name of nodesAndSentinels) {
    t.same([...(file.services[name]?.extra_hosts ?? [])].sort(), hosts, `${name}'s /etc/hosts names them all`);
  }
});
