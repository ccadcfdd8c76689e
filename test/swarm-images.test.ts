import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { DOCKER } from '../stack/compose/docker-cli.js';
import { buildSwarmImages, decide, standInHash } from '../stack/compose/images.js';
import {
  BASE_IMAGE,
  HASH_LABEL,
  IMAGES_DIR,
  OWN_LABEL,
  REGISTRY_IMAGE,
  STAND_IN_LABEL,
  STAND_INS,
  SWARM_IMAGES,
  SWARM_NODE_IMAGE,
} from '../stack/compose/stand-ins.js';
import { REGISTRY_PORT, swarmNodeRunArgs } from '../stack/compose/swarm-images.js';
import { engineForTests } from './helpers/compose-run.js';
import { freePorts, waitFor } from './helpers/fixtures.js';

/**
 * The Swarm deployment's images (buildSwarmImages): the registry:2 stand-in takes a push from the host engine, and
 * one node — run with swarmNodeRunArgs, exactly as the deployment runs it — pulls from it over plain HTTP, runs a
 * container in its own cgroup subtree, and comes back after `docker kill` + `docker start`.
 */

// A first build (apt-get for each image, the base if missing) takes a minute or more; a cached run, seconds.
t.setTimeout(600_000);

const SWARM_TAGS = SWARM_IMAGES.map((image) => image.tag);

t.test('the two images: FROM the base, labelled as ours, not among the Compose stand-ins', async (t) => {
  t.same(SWARM_TAGS, [REGISTRY_IMAGE, SWARM_NODE_IMAGE]);
  t.notOk(
    STAND_INS.some((s) => SWARM_TAGS.includes(s.tag)),
    'npm run compose:images builds neither (no docker.io for Compose users)',
  );
  for (const { folder, tag, label = STAND_IN_LABEL } of SWARM_IMAGES) {
    const dockerfile = readFileSync(path.join(IMAGES_DIR, folder, 'Dockerfile'), 'utf8');
    t.match(dockerfile, new RegExp(`^FROM ${BASE_IMAGE}$`, 'm'), `${folder} is FROM ${BASE_IMAGE}`);
    t.match(dockerfile, `\nLABEL ${label}=${tag}\n`, `${folder}: ${label}`);
    t.match(dockerfile, 'apt-get install -y --no-install-recommends', `${folder}: no recommends`);
    t.match(dockerfile, 'rm -rf /var/lib/apt/lists/*', `${folder}: apt lists cleaned`);
  }
  const own = { [OWN_LABEL]: SWARM_NODE_IMAGE, [HASH_LABEL]: 'abc' };
  t.equal(decide(own, 'abc', false, OWN_LABEL), 'cached', 'our own image, same hash: kept');
  t.equal(decide(own, 'def', false, OWN_LABEL), 'build', 'our own image, another hash: rebuilt');
  t.equal(decide({ maintainer: 'someone' }, 'abc', true, OWN_LABEL), 'skipped', 'not ours: left alone');
});

t.test('swarmNodeRunArgs: the options proven below, the registry only when given', async (t) => {
  const args = swarmNodeRunArgs({ name: 'n1', network: 'net', volume: 'v1', extra: ['--label', 'x=y'] });
  t.same(args.slice(0, 2), ['run', '-d']);
  t.equal(args.at(-1), SWARM_NODE_IMAGE, 'the image last');
  t.notOk(args.includes('--privileged'), 'not --privileged: it fails on this machine');
  t.notOk(args.includes('--ip'), 'no --ip unless given');
  t.notOk(
    args.some((a) => a.startsWith('REGISTRY=')),
    'no REGISTRY unless given',
  );
  t.ok(args.includes('NODE_NAME=n1') && args.includes('v1:/var/lib/docker'), 'its name and volume');
  t.same(args.slice(-3, -1), ['--label', 'x=y'], 'extra options before the image');
});

t.test('the registry:2 stand-in, and a Swarm node that pulls from it', async (t) => {
  if (!(await engineForTests(t))) return;
  // Its progress lines and summary as comments: a first build shows what it is doing.
  const reports = await buildSwarmImages((msg) => t.comment(msg));
  for (const { tag, folder, label = STAND_IN_LABEL } of SWARM_IMAGES) {
    if (reports.find((r) => r.image === tag)?.outcome === 'skipped') continue;
    const labels = await labelsOf(tag);
    t.equal(labels[label], tag, `${tag}: ${label}`);
    t.equal(labels[HASH_LABEL], await standInHash({ tag, folder }), `${tag}: built from the files as they are`);
  }

  const prefix = `evergreen-swarm-test-${randomBytes(3).toString('hex')}`;
  const made = cleanUp(t, prefix);
  const { network, subnet } = await createNetwork(prefix);
  made.network = network;
  const registryIp = `${subnet}.2`;
  const registry = `${registryIp}:${REGISTRY_PORT}`;
  const [port] = (await freePorts(1)) as [number];
  const probe = `evergreen/probe:test`;

  t.test('registry: a push from the host engine, listed in its catalog', async (t) => {
    made.containers.push(`${prefix}-registry`);
    const options = ['--name', `${prefix}-registry`, '--network', network, '--ip', registryIp];
    await docker(['run', '-d', ...options, '-p', `127.0.0.1:${port}:${REGISTRY_PORT}`, REGISTRY_IMAGE]);
    const url = `http://127.0.0.1:${port}`;
    await waitFor('the registry', 15_000, () => getJson(`${url}/v2/`));
    // The host engine trusts a registry on 127.0.0.0/8 without TLS.
    made.image = `127.0.0.1:${port}/${probe}`;
    await docker(['tag', BASE_IMAGE, made.image]);
    await docker(['push', made.image]);
    const catalog = (await getJson(`${url}/v2/_catalog`)) as { repositories: string[] };
    t.ok(catalog.repositories.includes('evergreen/probe'), `/v2/_catalog: ${JSON.stringify(catalog)}`);
    const tags = (await getJson(`${url}/v2/evergreen/probe/tags/list`)) as { tags: string[] };
    t.same(tags.tags, ['test'], 'its tag list');
    if (reports.find((r) => r.image === REGISTRY_IMAGE)?.outcome === 'skipped') return;
    t.equal(await docker(['exec', `${prefix}-registry`, 'id', '-un']), 'docker-registry', 'not root');
    const stored = ['exec', `${prefix}-registry`, 'ls', '/var/lib/registry/docker/registry/v2/repositories/evergreen'];
    t.equal(await docker(stored), 'probe', "stored in the official image's /var/lib/registry");
  });

  t.test('node: NODE_NAME is required', async (t) => {
    const run = await execa(DOCKER, ['run', '--rm', SWARM_NODE_IMAGE], { all: true, reject: false });
    t.equal(run.exitCode, 64, 'it exits at once, starting no dockerd');
    t.match(run.all, 'NODE_NAME is not set', 'and says why');
  });

  t.test('node: pulls from the registry over HTTP, runs a container, survives docker kill', async (t) => {
    const name = `${prefix}-node`;
    made.containers.unshift(name);
    made.volumes.push(name);
    made.cgroups.push(name);
    await docker(swarmNodeRunArgs({ name, network, ip: `${subnet}.10`, volume: name, registry }));
    const seconds = await dockerdAnswers(name);
    t.comment(`the inner dockerd answered ${seconds.toFixed(1)} s after the node started`);

    // Plain HTTP: without --insecure-registry the inner engine would insist on HTTPS.
    const image = `${registry}/${probe}`;
    await docker(['exec', name, 'docker', 'pull', image]);
    t.pass(`docker pull ${image} in the node`);
    const cgroups = await docker(['exec', name, 'docker', 'run', '--rm', image, 'cat', '/proc/self/cgroup']);
    // This host has cgroup v1 (one line per controller), shared with the node: the path is the host's.
    t.match(cgroups, new RegExp(`^\\d+:memory:/${name}/[0-9a-f]{64}$`, 'm'), 'an inner container: under /NODE_NAME');

    // A killed node keeps its pid files in /run: the entrypoint removes them, or dockerd would refuse to start.
    await docker(['kill', name]);
    await docker(['start', name]);
    const again = await dockerdAnswers(name);
    t.pass(`dockerd back ${again.toFixed(1)} s after docker start`);
    await docker(['exec', name, 'docker', 'image', 'inspect', '--format', '{{.Id}}', image]);
    t.pass('the pulled image is still there: the inner engine keeps its data on the volume');
  });
});

async function docker(args: string[]): Promise<string> {
  const result = await execa(DOCKER, args, { all: true, reject: false });
  if (result.exitCode !== 0) throw new Error(`docker ${args.join(' ')}: ${result.all}`);
  return result.all.trim();
}

type Labels = Record<string, string>;
async function labelsOf(image: string): Promise<Labels> {
  return JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', image])) as Labels;
}

/**
 * GET url's JSON, given up after 3 s by a timer that keeps the process alive: AbortSignal.timeout's does not, and
 * a request docker-proxy accepted before the registry listens can hang with nothing else pending — Node then
 * exits with the test unfinished and its teardown never run.
 */
async function getJson(url: string): Promise<unknown> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`${url}: no answer in 3 s`)), 3000);
  try {
    const res = await fetch(url, { signal: controller.signal });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return await res.json();
  } finally {
    clearTimeout(timer);
  }
}

/** What the test made, removed on teardown whether it passed or not (containers first: they use the rest). */
function cleanUp(t: Test, prefix: string) {
  const made = {
    containers: [] as string[],
    volumes: [] as string[],
    network: undefined as string | undefined,
    image: undefined as string | undefined,
    /** Node names: each inner engine made /sys/fs/cgroup/<controller>/<name> on the host. */
    cgroups: [] as string[],
  };
  t.teardown(async () => {
    const quietly = (args: string[]) => execa(DOCKER, args, { reject: false });
    for (const container of made.containers) await quietly(['rm', '--force', '--volumes', container]);
    for (const volume of made.volumes) await quietly(['volume', 'rm', volume]);
    if (made.network) await quietly(['network', 'rm', made.network]);
    if (made.image) await quietly(['image', 'rm', made.image]);
    for (const name of made.cgroups) await removeCgroups(name);
    const left = await quietly(['ps', '-a', '-q', '--filter', `name=${prefix}`]);
    if (left.stdout.trim()) t.comment(`containers left behind: ${left.stdout}`);
  });
  return made;
}

/** The empty cgroups a node's inner engine left on the host (its inner containers are gone with the node). */
async function removeCgroups(name: string): Promise<void> {
  const controllers = await readdir('/sys/fs/cgroup').catch(() => [] as string[]);
  for (const controller of controllers) await rmdir(path.join('/sys/fs/cgroup', controller, name)).catch(() => {});
}

/** Seconds until `docker info` answers inside the node (at most 60 s); the node's log when it never does. */
async function dockerdAnswers(name: string): Promise<number> {
  const started = performance.now();
  let exited: Error | undefined;
  const check = async () => {
    const info = await execa(DOCKER, ['exec', name, 'docker', 'info', '--format', '{{.ServerVersion}}'], {
      reject: false,
    });
    if (info.exitCode === 0) return;
    const running = await docker(['inspect', '--format', '{{.State.Running}}', name]);
    if (running !== 'true') exited = new Error(`the node ${name} exited`);
    throw new Error(info.stderr || info.stdout);
  };
  try {
    await waitFor(`dockerd in ${name}`, 60_000, check, () => exited);
  } catch (err) {
    const logs = await docker(['logs', '--tail', '20', name]).catch((e: Error) => e.message);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${logs}`);
  }
  return (performance.now() - started) / 1000;
}

/**
 * A user bridge network of the test's own on a free 172.31.<n>.0/24: one that no existing network's subnet
 * overlaps; another test taking it first (the engine refuses an overlap) moves on to the next one.
 */
async function createNetwork(name: string): Promise<{ network: string; subnet: string }> {
  const ids = (await docker(['network', 'ls', '-q'])).split('\n').filter(Boolean);
  const used = (await docker(['network', 'inspect', '--format', '{{range .IPAM.Config}}{{.Subnet}} {{end}}', ...ids]))
    .split(/\s+/)
    .filter((cidr) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(cidr));
  const start = Math.floor(Math.random() * 256);
  for (let i = 0; i < 256; i++) {
    const subnet = `172.31.${(start + i) % 256}`;
    if (used.some((cidr) => overlaps(cidr, `${subnet}.0/24`))) continue;
    const created = await execa(DOCKER, ['network', 'create', '--subnet', `${subnet}.0/24`, name], { reject: false });
    if (created.exitCode === 0) return { network: name, subnet };
    if (!/overlap/i.test(created.stderr)) throw new Error(`docker network create: ${created.stderr}`);
  }
  throw new Error('no free /24 in 172.31.0.0/16 for a test network');
}

function overlaps(a: string, b: string): boolean {
  const range = (cidr: string) => {
    const [address = '', bits = '32'] = cidr.split('/');
    const start = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(bits));
    return [start - (start % size), start - (start % size) + size] as const;
  };
  const [aFrom, aTo] = range(a);
  const [bFrom, bTo] = range(b);
  return aFrom < bTo && bFrom < aTo;
}
