import t from 'tap';
import { execa } from 'execa';
import { startSwarmDeployment } from '../ops/deployment/swarm.js';
import { DRILL_API_ENV } from '../ops/drill/command.js';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS } from '../ops/drill/options.js';
import { renderMarkdown } from '../ops/drill/report.js';
import { DOCKER } from '../stack/compose/docker-cli.js';
import { nodeContainer, STACK } from '../swarm/layout.js';
import { askManagers } from '../swarm/node-docker.js';
import { swarmStatus } from '../swarm/status.js';
import { engineForTests } from './helpers/compose-run.js';

// Images built once (the node image installs docker.io: ~1.5 min the first time), swarm up ~80 s, a purchase
// flow, kill-node ~90 s, partition-node ~60 s, down ~5 s.
t.setTimeout(900_000);

t.test('Evergreen on a swarm of three Docker-in-Docker nodes survives losing a host and a partition', async (t) => {
  if (!(await engineForTests(t))) return t.pass('SKIPPED, not silently: no Docker engine can be had here');
  const log = (msg: string) => t.comment(msg);
  const deployment = await startSwarmDeployment({
    purpose: 'swarm-test',
    nodes: 3,
    downAfterMs: 5000,
    failoverTimeoutMs: 10_000,
    apiEnv: DRILL_API_ENV,
    keep: false,
    log,
  });
  t.teardown(() => deployment.stop());
  const { record } = deployment;
  const node = (i: number) => nodeContainer(record, i);

  await t.test('placement: one Redis node and one Sentinel per host, the API on two hosts, NGINX on all', async (t) => {
    const placement = await deployment.hosts.placement();
    for (const i of [1, 2, 3]) {
      t.ok(placement.includes(`redis-${i}@${node(i)}`), `redis-${i} on ${node(i)}`, { placement });
      t.ok(placement.includes(`sentinel-${i}@${node(i)}`), `sentinel-${i} on ${node(i)}`, { placement });
      t.ok(placement.includes(`nginx@${node(i)}`), `NGINX on ${node(i)}`, { placement });
    }
    const apiHosts = placement.filter((task) => task.startsWith('api@'));
    t.equal(new Set(apiHosts).size, 2, 'two API tasks on two different hosts', { apiHosts });
  });

  await t.test('secrets are Docker secrets, not variables', async (t) => {
    const format = '{{json .Spec.TaskTemplate.ContainerSpec}}';
    const spec = JSON.parse(await askManagers(record, ['service', 'inspect', '--format', format, `${STACK}_api`]));
    const env = (spec.Env ?? []) as string[];
    t.notOk(
      env.some((e) => /^(JWT_SECRET|REDIS_PASSWORD|SENTINEL_PASSWORD|ADMIN_PASSWORD)=/.test(e)),
      'no secret in the environment',
      { env },
    );
    t.ok(env.includes('JWT_SECRET_FILE=/run/secrets/JWT_SECRET'), 'the API reads its JWT secret from a file');
    const secrets = ((spec.Secrets ?? []) as { SecretName: string }[]).map((s) => s.SecretName);
    t.ok(secrets.includes('evergreen_jwt_secret'), 'evergreen_jwt_secret is mounted', { secrets });
    for (const secret of Object.values(record.redis)) {
      t.notOk(JSON.stringify(spec).includes(secret), 'no Redis password appears in the service spec');
    }
  });

  await t.test('a purchase flow through the edge, and a replayed key', async (t) => {
    const base = `${deployment.publicUrl}/api/v1`;
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, never> };
    };
    const admin = await call('POST', '/auth/login', deployment.admin);
    t.equal(admin.status, 200, 'the admin signs in (its password came from a Docker secret)');
    const adminAuth = { authorization: `Bearer ${admin.body.token}` };
    const product = await call('POST', '/products', { name: 'Across hosts', priceCents: 500, stock: 3 }, adminAuth);
    t.equal(product.status, 201, 'a product is created');
    const user = { username: 'swarm-buyer', password: 'swarm-buyer-password' };
    t.equal((await call('POST', '/auth/register', user)).status, 201, 'a buyer registers');
    const login = await call('POST', '/auth/login', user);
    const auth = { authorization: `Bearer ${login.body.token}`, 'idempotency-key': 'swarm-order-1' };
    const order = { productId: product.body.id, quantity: 2 };
    const first = await call('POST', '/purchases', order, auth);
    t.equal(first.status, 201, 'the purchase is acknowledged');
    const again = await call('POST', '/purchases', order, auth);
    t.equal(again.body.id, first.body.id, 'the same key gives the same purchase back');
    const stock = await call('GET', `/products/${product.body.id}`);
    t.equal(stock.body.stock, 1, 'two of three units sold, once');
  });

  await t.test('status answers while a host is frozen', async (t) => {
    await deployment.hosts.freeze(node(3));
    try {
      const started = Date.now();
      const status = await swarmStatus(record);
      t.ok(Date.now() - started < 30_000, 'within 30 s', { ms: Date.now() - started });
      t.equal(status.nodes.find((n) => n.name === node(3))?.state, 'paused', 'the frozen node is shown paused');
      t.same(status.master, { service: 'redis-1', node: node(1) }, 'the master and its host, from the Sentinels');
    } finally {
      await deployment.hosts.thaw(node(3));
    }
  });

  await t.test('kill-node: the master host lost and started again', async (t) => {
    const report = await runDrill({ ...DEFAULT_OPTIONS, fault: 'kill-node' }, deployment, log);
    t.comment(renderMarkdown(report));
    const cycle = report.cycles[0];
    const said = (cycle?.actions ?? []).map(({ what }) => what);
    t.match(said[0], /^docker kill .*-node-1 \(power lost: it holds redis-1\)/, 'the master host is killed');
    t.ok(cycle?.newMasterHost, 'the Sentinels on the two other hosts promoted a replica', { notes: cycle?.notes });
    t.ok(
      said.some((what) => /^redis-1 replicates redis-[23]/.test(what)),
      'the old master came back as a replica of the new one, with its host',
      { said },
    );
    t.ok(cycle?.healed, 'healed', { notes: cycle?.notes });
    t.ok((cycle?.acknowledged ?? 0) > 0, 'purchases were acknowledged in the cycle');
    for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
  });

  await t.test('partition-node: the master host cut off with an API instance on each side', async (t) => {
    const report = await runDrill({ ...DEFAULT_OPTIONS, fault: 'partition-node' }, deployment, log);
    t.comment(renderMarkdown(report));
    const cycle = report.cycles[0];
    const said = (cycle?.actions ?? []).map(({ what }) => what);
    t.ok(
      said.some((what) => /^cut .* off from every other host/.test(what)),
      'the master host is cut off',
      { said },
    );
    t.ok(
      said.some((what) => /^the majority's Sentinels name redis-\d/.test(what)),
      'the majority promoted',
      { said },
    );
    t.ok(
      said.some((what) => /^redis-\d replicates redis-\d/.test(what)),
      'the island master rejoined',
      { said },
    );
    t.ok(cycle?.healed, 'healed', { notes: cycle?.notes });
    for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
  });

  await t.test('the faults an orchestrator makes meaningless are refused up front', async (t) => {
    await t.rejects(runDrill({ ...DEFAULT_OPTIONS, fault: 'kill-master' }, deployment, log), /kill-master needs/);
  });

  await t.test('down removes the nodes', async (t) => {
    await deployment.stop();
    const left = await execa(DOCKER, ['ps', '-a', '--filter', `name=${record.name}`, '--format', '{{.Names}}']);
    t.equal(left.stdout.trim(), '', 'no container of the swarm is left');
  });
});
