import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { buildStandInImages, buildSwarmImages } from '../stack/compose/images.js';
import { DOCKER, inspectImage, runStreaming } from '../stack/compose/docker-cli.js';
import { REGISTRY_IMAGE } from '../stack/compose/stand-ins.js';
import { swarmNodeRunArgs } from '../stack/compose/swarm-images.js';
import { repoRoot } from '../stack/layout.js';
import { freePorts } from '../stack/helpers/ports.js';
import { freeSubnetPrefix } from '../stack/helpers/subnet.js';
import { expectStatus, waitFor } from '../stack/helpers/wait.js';
import { startEdge } from './edge.js';
import {
  CHECKOUT_IN_NODE,
  monitoringNode,
  networkName,
  nodeAddress,
  nodeContainer,
  nodeIndexes,
  nodeVolume,
  registryAddress,
  registryContainer,
  registryForNodes,
  REGISTRY_PORT,
  STACK,
  STACK_FILE,
} from './layout.js';
import { containerState, nodeDocker } from './node-docker.js';
import { dockerSecrets, newSecrets, readSwarmRecord, writeSwarmRecord, type SwarmRecord } from './state.js';
import { waitConverged, waitServing } from './wait.js';

export interface SwarmUpOptions {
  name: string;
  nodes: number;
  /** The edge's port on this host (HTTP_PORT); a free one when undefined. */
  httpPort?: number;
  monitoring: boolean;
  adminUsername: string;
  /** Passed to the stack (SENTINEL_DOWN_AFTER_MS, RATE_LIMIT_MAX, LOG_LEVEL, …). */
  stackEnv: Record<string, string>;
  log: (msg: string) => void;
}

/** What the stack runs, as this host names each image and as the registry (stack.yml's ${REGISTRY}/…) does. */
const CORE_IMAGES = [
  ['redis:7.0', 'redis:7.0'],
  ['nginx:1.22-alpine', 'nginx:1.22-alpine'],
  ['evergreen-api:latest', 'evergreen-api:latest'],
] as const;
const MONITORING_IMAGES = [
  ['prom/prometheus:v2.42.0', 'prometheus:v2.42.0'],
  ['prom/alertmanager:v0.25.0', 'alertmanager:v0.25.0'],
  ['oliver006/redis_exporter:v1.45.0-alpine', 'redis_exporter:v1.45.0-alpine'],
  ['nginx/nginx-prometheus-exporter:0.11.0', 'nginx-prometheus-exporter:0.11.0'],
] as const;
const GRAFANA = ['grafana/grafana-oss:11.6.0', 'grafana-oss:11.6.0'] as const;
const QUIET_IMAGE_LINE = /: checking$|\bcached\b|grafana|^image +result/;

/**
 * `npm run swarm -- up`: N nodes as Docker-in-Docker containers on a network of their own, every one a manager
 * (Raft needs a majority: with one manager, losing its host freezes the orchestrator), labelled for placement,
 * a registry every node pulls every image from before the deploy (so a node can take a task while the registry
 * is gone), the Docker secrets, `docker stack deploy` of swarm/stack.yml, and the edge on HTTP_PORT. Run again,
 * it reuses what exists and deploys again (the same secrets: they live in .swarm/<name>/).
 */
export async function swarmUp(opts: SwarmUpOptions): Promise<SwarmRecord> {
  const { log } = opts;
  const started = performance.now();
  const step = (msg: string) => log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${msg}`);
  const record = await recordFor(opts);
  await writeSwarmRecord(record);

  step('images: the stand-ins, the node and registry images, the API (built once, then cached)');
  await buildStandInImages((msg) => QUIET_IMAGE_LINE.test(msg) || log(`  ${msg}`));
  await buildSwarmImages((msg) => QUIET_IMAGE_LINE.test(msg) || log(`  ${msg}`));
  await runStreaming(DOCKER, ['build', '--quiet', '-t', 'evergreen-api:latest', repoRoot], () => undefined, {
    DOCKER_BUILDKIT: '0',
  });

  step(`network ${networkName(record)} (${record.prefix}.0/24) and the registry at ${registryForNodes(record)}`);
  await ensureNetwork(record);
  await ensureRegistry(record);
  const images = await imagesToShip(record, log);
  step(`push ${images.length} images to the registry`);
  await Promise.all(images.map(([local, remote]) => push(record, local, remote)));

  step(
    `${record.nodes} nodes: ${nodeIndexes(record)
      .map((i) => nodeContainer(record, i))
      .join(', ')}`,
  );
  await Promise.all(nodeIndexes(record).map((i) => ensureNode(record, i)));
  await joinSwarm(record, step);
  await createSecrets(record);

  step(`every node pulls every image (${images.length}) from the registry`);
  await Promise.all(
    nodeIndexes(record).flatMap((i) =>
      images.map(([, remote]) =>
        nodeDocker(nodeContainer(record, i), ['pull', '--quiet', `${registryForNodes(record)}/${remote}`], {
          timeoutMs: 300_000,
        }),
      ),
    ),
  );

  step(`docker stack deploy -c ${STACK_FILE} ${STACK}`);
  await nodeDocker(nodeContainer(record, 1), ['stack', 'deploy', '--compose-file', STACK_FILE, STACK], {
    cwd: CHECKOUT_IN_NODE,
    env: await stackEnv(record, opts.stackEnv, images),
    timeoutMs: 120_000,
  });
  await startEdge(record, record.httpPort);
  step('waiting for every service to run all its tasks');
  await waitConverged(record, step);
  await waitServing(record);
  step(`serving at http://127.0.0.1:${record.httpPort}`);
  return record;
}

async function recordFor(opts: SwarmUpOptions): Promise<SwarmRecord> {
  const kept = await readSwarmRecord(opts.name);
  if (kept) {
    if (kept.nodes !== opts.nodes) throw new Error(`swarm ${opts.name} has ${kept.nodes} nodes: down it first`);
    return { ...kept, monitoring: opts.monitoring };
  }
  const [registryPort = 0, freeHttpPort = 0] = await freePorts(2);
  return {
    name: opts.name,
    prefix: await freeSubnetPrefix('172.31'),
    nodes: opts.nodes,
    httpPort: opts.httpPort ?? freeHttpPort,
    registryPort,
    monitoring: opts.monitoring,
    ...newSecrets(opts.adminUsername),
  };
}

async function ensureNetwork(r: SwarmRecord): Promise<void> {
  const exists = await execa(DOCKER, ['network', 'inspect', networkName(r)], { reject: false });
  if (exists.exitCode === 0) return;
  await execa(DOCKER, ['network', 'create', '--subnet', `${r.prefix}.0/24`, networkName(r)]);
}

async function ensureRegistry(r: SwarmRecord): Promise<void> {
  const container = registryContainer(r);
  const state = await containerState(container);
  if (state === 'missing') {
    await execa(DOCKER, [
      ...['run', '--detach', '--name', container, '--restart', 'unless-stopped'],
      ...['--network', networkName(r), '--ip', registryAddress(r)],
      // The host pushes through loopback (a registry on localhost needs no TLS), the nodes pull on their network.
      ...['--publish', `127.0.0.1:${r.registryPort}:${REGISTRY_PORT}`, '--volume', `${container}:/var/lib/registry`],
      REGISTRY_IMAGE,
    ]);
  } else if (state !== 'running') {
    await execa(DOCKER, ['start', container]);
  }
  await waitFor('the registry', 30_000, () => expectStatus(`http://127.0.0.1:${r.registryPort}/v2/`, 200));
}

/** The images to push: the core ones, the monitoring ones when asked, Grafana only when this host has it. */
async function imagesToShip(r: SwarmRecord, log: (msg: string) => void): Promise<(readonly [string, string])[]> {
  if (!r.monitoring) return [...CORE_IMAGES];
  const grafana = (await inspectImage(GRAFANA[0])) ? [GRAFANA] : [];
  if (grafana.length === 0) log(`  ${GRAFANA[0]}: not on this host (docker pull it); the stack runs without Grafana`);
  return [...CORE_IMAGES, ...MONITORING_IMAGES, ...grafana];
}

async function push(r: SwarmRecord, local: string, remote: string): Promise<void> {
  const target = `127.0.0.1:${r.registryPort}/${remote}`;
  await execa(DOCKER, ['tag', local, target]);
  await execa(DOCKER, ['push', '--quiet', target], { timeout: 300_000 });
  await execa(DOCKER, ['rmi', target], { reject: false });
}

async function ensureNode(r: SwarmRecord, i: number): Promise<void> {
  const container = nodeContainer(r, i);
  const state = await containerState(container);
  if (state === 'missing') {
    const args = swarmNodeRunArgs({
      name: container,
      network: networkName(r),
      ip: nodeAddress(r, i),
      volume: nodeVolume(r, i),
      registry: registryForNodes(r),
      // The checkout, read-only: a manager deploys the stack file and its configs from it.
      extra: ['--volume', `${repoRoot}:${CHECKOUT_IN_NODE}:ro`, '--label', `org.evergreen.swarm=${r.name}`],
    });
    await execa(DOCKER, args);
  } else if (state === 'paused') {
    await execa(DOCKER, ['unpause', container]);
  } else if (state !== 'running') {
    await execa(DOCKER, ['start', container]);
  }
  await waitFor(`${container}'s engine`, 60_000, () => nodeDocker(container, ['info', '--format', '{{.ID}}']));
}

const swarmState = (container: string) => nodeDocker(container, ['info', '--format', '{{.Swarm.LocalNodeState}}']);

/** Node 1 starts the swarm; the others join it as managers; each is labelled for what it holds. */
async function joinSwarm(r: SwarmRecord, step: (msg: string) => void): Promise<void> {
  const first = nodeContainer(r, 1);
  if ((await swarmState(first)) !== 'active') {
    step(`swarm init on ${first}`);
    await nodeDocker(first, ['swarm', 'init', '--advertise-addr', nodeAddress(r, 1)]);
  }
  const token = await nodeDocker(first, ['swarm', 'join-token', '--quiet', 'manager']);
  for (const i of nodeIndexes(r).slice(1)) {
    const container = nodeContainer(r, i);
    if ((await swarmState(container)) === 'active') continue;
    step(`${container} joins as a manager`);
    const join = [
      'swarm',
      'join',
      '--token',
      token,
      '--advertise-addr',
      nodeAddress(r, i),
      `${nodeAddress(r, 1)}:2377`,
    ];
    await nodeDocker(container, join, { timeoutMs: 120_000 });
  }
  for (const i of nodeIndexes(r)) {
    const labels = ['--label-add', `evergreen.redis=${i}`];
    if (i === monitoringNode(r)) labels.push('--label-add', 'evergreen.monitoring=true');
    await nodeDocker(first, ['node', 'update', ...labels, nodeContainer(r, i)]);
  }
}

async function createSecrets(r: SwarmRecord): Promise<void> {
  const first = nodeContainer(r, 1);
  const existing = new Set((await nodeDocker(first, ['secret', 'ls', '--format', '{{.Name}}'])).split('\n'));
  for (const [name, value] of Object.entries(dockerSecrets(r))) {
    if (!existing.has(name)) await nodeDocker(first, ['secret', 'create', name, '-'], { input: value });
  }
}

/** The stack file's variables: the registry, a CONFIG_VERSION from the configs' content, the caller's own. */
async function stackEnv(
  r: SwarmRecord,
  extra: Record<string, string>,
  images: readonly (readonly [string, string])[],
): Promise<Record<string, string>> {
  const stack = await readFile(path.join(repoRoot, STACK_FILE), 'utf8');
  const files = [...stack.matchAll(/file: (\S+) \}/g)].map((m) => path.resolve(repoRoot, 'swarm', m[1] ?? ''));
  const hash = createHash('sha256');
  for (const file of files) hash.update(await readFile(file));
  return {
    REGISTRY: registryForNodes(r),
    CONFIG_VERSION: hash.digest('hex').slice(0, 12),
    ADMIN_USERNAME: r.admin.username,
    MONITORING_REPLICAS: r.monitoring ? '1' : '0',
    GRAFANA_REPLICAS: images.some(([local]) => local === GRAFANA[0]) ? '1' : '0',
    ...extra,
  };
}
