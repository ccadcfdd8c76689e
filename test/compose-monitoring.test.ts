import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { freePorts } from './helpers/fixtures.js';
import {
  argv,
  entrypointScript,
  environment,
  hostAndPort,
  hostPath,
  listenPorts,
  mounts,
  repoRoot,
} from './helpers/compose.js';
import {
  compose,
  read,
  NO_HEALTHCHECK,
  NOT_SCRAPED,
  serviceNamed,
  readYaml,
  defaultOf,
  flag,
  printed,
} from './helpers/compose-services.js';
import { loadAlertRules } from './helpers/rules.js';

/** compose.yml's monitoring: what Prometheus scrapes, Alertmanager's entrypoint, the alert log, Grafana. */

t.test('nginx-exporter, which has no healthcheck, is watched by Prometheus instead', async (t) => {
  const exporter = serviceNamed(NO_HEALTHCHECK);
  t.match(
    defaultOf(exporter.image),
    /^nginx\/nginx-prometheus-exporter:/,
    'it runs the scratch image: no shell or client inside to probe it with',
  );
  const targets = readYaml<{ targets: string[] }[]>('prometheus/targets/nginx.yml').flatMap((group) => group.targets);
  t.same(
    targets,
    [...listenPorts(exporter)].map((port) => `${NO_HEALTHCHECK}:${port}`),
    'Prometheus scrapes it (job nginx)',
  );
  const alerts = (await loadAlertRules()).filter((rule) => /\bup\{job="nginx"\} == 0/.test(rule.expr));
  t.ok(alerts.length > 0, 'an alert fires when Prometheus cannot scrape it');
  for (const alert of alerts) t.equal(alert.labels.severity, 'critical', `${alert.alert} is critical`);
});

t.test(
  'Prometheus reads prometheus/, and every target it scrapes is a Compose service at the port it listens on',
  async (t) => {
    const prometheus = serviceNamed('prometheus');
    t.ok(
      mounts(prometheus).some(
        (m) => m.bind && path.normalize(m.source) === 'prometheus' && m.target === '/etc/prometheus' && m.readOnly,
      ),
      'prometheus/ is mounted read-only at /etc/prometheus',
    );
    const configFile = flag(argv(prometheus.command), '--config.file') ?? '';
    t.equal(hostPath(prometheus, configFile), path.join('prometheus', 'prometheus.yml'), 'it runs prometheus.yml');

    interface FileSd {
      file_sd_configs?: { files: string[] }[];
    }
    const config = readYaml<{
      rule_files: string[];
      scrape_configs: (FileSd & { job_name: string })[];
      alerting: { alertmanagers: FileSd[] };
    }>('prometheus/prometheus.yml');
    const sdFiles = [...config.scrape_configs, ...config.alerting.alertmanagers].flatMap((c) =>
      (c.file_sd_configs ?? []).flatMap((sd) => sd.files),
    );
    const targetFiles = readdirSync(path.join(repoRoot, 'prometheus', 'targets')).filter((f) => f.endsWith('.yml'));
    t.same(
      [...new Set(sdFiles)].sort(),
      targetFiles.map((file) => `targets/${file}`).sort(),
      'prometheus.yml reads every targets file, each beside it in the mounted folder',
    );
    for (const glob of config.rule_files) {
      const [dir = '', pattern = ''] = [path.dirname(glob), path.basename(glob)];
      const suffix = pattern.replace(/^\*/, '');
      const found = readdirSync(path.join(repoRoot, 'prometheus', dir)).filter((f) => f.endsWith(suffix));
      t.ok(pattern.startsWith('*') && found.length > 0, `${glob} finds rule files in the mounted folder`);
    }

    const scraped = new Set<string>();
    const listensAt = (address: string, what: string) => {
      const { host, port } = hostAndPort(address);
      const service = compose.services[host];
      t.ok(service, `${what}: ${host} is a Compose service`);
      if (!service) return;
      t.ok(listenPorts(service).has(port), `${what}: ${host} listens on ${port}`);
      scraped.add(host);
    };
    for (const file of targetFiles) {
      const groups = readYaml<{ targets: string[]; labels?: Record<string, string> }[]>(`prometheus/targets/${file}`);
      t.ok(groups.length > 0, `${file} has targets`);
      for (const { targets, labels = {} } of groups) {
        for (const target of targets) listensAt(target, `${file} ${labels.instance}`);
        const node = labels.__param_target;
        if (!node) continue;
        // The exporter scrapes the node as its read-only user: the password must be the one the node renders.
        listensAt(node, `${file} ${labels.instance} (through the exporter)`);
        const nodeEnv = environment(serviceNamed(hostAndPort(node).host));
        for (const exporter of targets) {
          const exporterEnv = environment(serviceNamed(hostAndPort(exporter).host));
          t.equal(exporterEnv.REDIS_USER, 'exporter', `${exporter} logs in as the exporter user`);
          t.ok(nodeEnv.REDIS_EXPORTER_PASSWORD, `${labels.instance} renders the exporter user`);
          t.equal(exporterEnv.REDIS_PASSWORD, nodeEnv.REDIS_EXPORTER_PASSWORD, `${exporter} has its password`);
        }
      }
    }
    t.same(
      [...scraped].sort(),
      Object.keys(compose.services)
        .filter((name) => !NOT_SCRAPED.includes(name))
        .sort(),
      'Prometheus sees every other service',
    );
  },
);

t.test('the Alertmanager entrypoint renders ${ALERT_WEBHOOK_URL} into its volume, and amtool accepts it', async (t) => {
  const alertmanager = serviceNamed('alertmanager');
  const script = entrypointScript(alertmanager);
  if (!script) return t.fail('alertmanager runs a script of the repo as its entrypoint');
  // The container on this host: its bind mounts are the repo's files, its volumes empty folders, and the image's
  // alertmanager a stub that writes down its arguments.
  const dir = t.testdir();
  const stub = path.join(dir, 'alertmanager');
  writeFileSync(stub, '#!/bin/sh\nprintf "%s\\n" "$@" >"$ARGS_FILE"\n');
  chmodSync(stub, 0o755);
  const onHost = new Map<string, string>([['/bin/alertmanager', stub]]);
  for (const m of mounts(alertmanager)) {
    const host = m.bind ? path.join(repoRoot, m.source) : path.join(dir, 'volumes', m.source);
    if (!m.bind) mkdirSync(host, { recursive: true });
    onHost.set(m.target, host);
  }
  const containerPath = new RegExp(
    `(?<![\\w./-])(${[...onHost.keys()]
      .sort((a, b) => b.length - a.length)
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('|')})(?![\\w.-])`,
    'g',
  );
  const runnable = path.join(dir, path.basename(script.file));
  writeFileSync(
    runnable,
    script.text.replace(containerPath, (p) => onHost.get(p) ?? p),
  );
  const volume = onHost.get('/alertmanager') ?? '';

  const run = (name: string, url: string | undefined) => {
    const argsFile = path.join(dir, `${name}.args`);
    const env = {
      PATH: process.env.PATH,
      ARGS_FILE: argsFile,
      ...(url === undefined ? {} : { ALERT_WEBHOOK_URL: url }),
    };
    const result = spawnSync('sh', [runnable], { env, encoding: 'utf8' });
    const args = existsSync(argsFile) ? readFileSync(argsFile, 'utf8').trim().split('\n') : undefined;
    return { ...result, args };
  };
  const composeDefault = defaultOf(environment(alertmanager).ALERT_WEBHOOK_URL);
  t.ok(composeDefault, 'Compose gives ALERT_WEBHOOK_URL a default');
  const cases: [string, string][] = [
    ['compose-default', composeDefault ?? ''],
    ['custom', 'https://hooks.example.com/services/T0/B0?token=a&b=c'],
  ];
  for (const [name, url] of cases) {
    const result = run(name, url);
    t.equal(result.status, 0, `${name}: ${result.stderr}`);
    const config = flag(result.args ?? [], '--config.file');
    t.ok(config?.startsWith(`${volume}${path.sep}`), `${name}: it runs the rendered file, kept in its volume`);
    t.equal(flag(result.args ?? [], '--storage.path'), volume, `${name}: it keeps its state in its volume`);
    if (!config) continue;
    const check = spawnSync('amtool', ['check-config', config], { encoding: 'utf8' });
    t.equal(check.status, 0, `${name}: amtool check-config: ${check.stdout}${check.stderr}`);
    const rendered = parse(readFileSync(config, 'utf8')) as { receivers: { webhook_configs?: { url: string }[] }[] };
    const urls = rendered.receivers.flatMap((r) => (r.webhook_configs ?? []).map((w) => w.url));
    t.ok(urls.length > 0 && urls.every((u) => u === url), `${name}: every webhook goes to ${url}`);
  }
  const missing = run('missing', undefined);
  t.not(missing.status, 0, 'without ALERT_WEBHOOK_URL it does not start');
  t.match(missing.stderr, 'no value for ${ALERT_WEBHOOK_URL}');
  t.notOk(missing.args, 'and Alertmanager never runs');

  const { host, port } = hostAndPort(composeDefault ?? '');
  t.equal(host, 'alert-log', "Compose's default is the alert log");
  t.ok(listenPorts(serviceNamed('alert-log')).has(port), `at the port it listens on (${port})`);
});

t.test('the alert log runs as node, answers its healthcheck and logs what Alertmanager posts', async (t) => {
  const alertLog = serviceNamed('alert-log');
  t.equal(alertLog.user, 'node', 'it does not run as root');
  const [program, script = ''] = argv(alertLog.command);
  t.equal(program, 'node');
  t.equal(hostPath(alertLog, script), path.join('prometheus', 'alert-log.mjs'), 'it runs prometheus/alert-log.mjs');
  const [composePort] = listenPorts(alertLog);
  const [kind, command = '', ...probeArgs] = argv(alertLog.healthcheck?.test);
  t.same([kind, command], ['CMD', 'node'], 'the healthcheck runs node itself (no curl or wget in the image)');
  t.ok(probeArgs.join(' ').includes(`127.0.0.1:${composePort}`), `it probes ${composePort}`);

  // The same script and probe, on a free port here.
  const [port] = (await freePorts(1)) as [number];
  const child = spawn(process.execPath, [path.join(repoRoot, 'prometheus', 'alert-log.mjs')], {
    env: { PATH: process.env.PATH, ALERT_LOG_LISTEN: `127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill());
  await printed(child.stderr, 'listening');
  const probe = () =>
    spawnSync(
      process.execPath,
      probeArgs.map((arg) => arg.replace(`127.0.0.1:${composePort}`, `127.0.0.1:${port}`)),
      { encoding: 'utf8', timeout: 10_000 },
    );
  t.equal(probe().status, 0, 'healthy while it runs');
  const webhook = new URL(defaultOf(environment(serviceNamed('alertmanager')).ALERT_WEBHOOK_URL) ?? '');
  const logged = printed(child.stdout, '"alertname":"ComposeTest"');
  const response = await fetch(`http://127.0.0.1:${port}${webhook.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ alerts: [{ status: 'firing', labels: { alertname: 'ComposeTest' }, annotations: {} }] }),
  });
  t.equal(response.status, 200, `it takes notifications at ${webhook.pathname}`);
  await logged;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  t.not(probe().status, 0, 'unhealthy once it stopped');
});

t.test(
  "Grafana provisions the repo's data source and dashboards, read-only, where its provisioning says",
  async (t) => {
    const grafana = serviceNamed('grafana');
    const boundAt = (target: string) => mounts(grafana).find((m) => m.bind && m.target === target);
    for (const kind of ['datasources', 'dashboards']) {
      const m = boundAt(`/etc/grafana/provisioning/${kind}`);
      t.equal(
        m && path.normalize(m.source),
        path.join('grafana', 'provisioning', kind),
        `grafana/provisioning/${kind}`,
      );
      t.ok(m?.readOnly, `${kind} provisioning is read-only`);
    }
    const provisioning = (kind: string) =>
      readdirSync(path.join(repoRoot, 'grafana', 'provisioning', kind))
        .filter((file) => file.endsWith('.yml') || file.endsWith('.yaml'))
        .map((file) => readYaml<Record<string, unknown>>(path.join('grafana', 'provisioning', kind, file)));
    const providers = provisioning('dashboards').flatMap(
      (file) => (file.providers ?? []) as { options?: { path?: string } }[],
    );
    t.ok(providers.length > 0, 'a dashboard provider is provisioned');
    for (const { options } of providers) {
      const m = boundAt(options?.path ?? '');
      t.equal(
        m && path.normalize(m.source),
        path.join('grafana', 'dashboards'),
        `${options?.path} is grafana/dashboards`,
      );
      t.ok(m?.readOnly, `${options?.path} is read-only`);
      const dashboards = readdirSync(path.join(repoRoot, 'grafana', 'dashboards')).filter((f) => f.endsWith('.json'));
      t.ok(dashboards.length > 0, 'with the generated dashboards in it');
    }
    const datasources = provisioning('datasources').flatMap((file) => (file.datasources ?? []) as { url?: string }[]);
    t.ok(datasources.length > 0, 'a data source is provisioned');
    for (const { url = '' } of datasources) {
      const { host, port } = hostAndPort(url);
      const target = compose.services[host];
      t.ok(target && listenPorts(target).has(port), `the data source ${url} is a Compose service at its port`);
    }
    t.ok((grafana.depends_on as Record<string, unknown> | undefined)?.prometheus, 'Grafana starts after Prometheus');
    const env = environment(grafana);
    t.match(env, { GF_USERS_ALLOW_SIGN_UP: 'false', GF_SECURITY_ADMIN_USER: '${GRAFANA_ADMIN_USER:-admin}' });
    t.match(env.GF_SECURITY_ADMIN_PASSWORD, /^\$\{GRAFANA_ADMIN_PASSWORD:\?/, 'the admin password comes from .env');
  },
);

t.test("nginx-exporter reads NGINX's stub_status, which answers Compose's private network", async (t) => {
  const uri = flag(argv(serviceNamed(NO_HEALTHCHECK).command), '-nginx.scrape-uri') ?? '';
  const { host, port } = hostAndPort(uri);
  t.equal(host, 'nginx');
  t.equal(port, Number(environment(serviceNamed('nginx')).NGINX_STATUS_LISTEN), "at nginx's NGINX_STATUS_LISTEN");
  t.equal(new URL(uri).pathname, '/stub_status');
  const conf = read('nginx/nginx.conf');
  const statusServer = conf.slice(conf.indexOf('listen ${NGINX_STATUS_LISTEN};'));
  const location = /location = \/stub_status \{([^}]*)\}/.exec(statusServer)?.[1] ?? '';
  t.match(location, /\bstub_status;/, 'the status server serves stub_status');
  // Docker's default address pools for Compose networks.
  for (const net of ['172.16.0.0/12', '192.168.0.0/16'])
    t.match(location, new RegExp(`\\ballow ${net.replace(/\./g, '\\.')};`), `it allows ${net}`);
});
