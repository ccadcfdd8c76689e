import { readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { DOCKER } from '../stack/compose/docker-cli.js';
import {
  edgeContainer,
  networkName,
  nodeContainer,
  nodeIndexes,
  nodeVolume,
  registryContainer,
  type SwarmLayout,
} from './layout.js';
import { removeSwarmState } from './state.js';

/**
 * `npm run swarm -- down`: the edge, the node containers (and so every task on them), the registry, their
 * volumes, the network and this machine's record of it. Whatever is already gone is skipped.
 */
export async function swarmDown(l: SwarmLayout, log: (msg: string) => void): Promise<void> {
  const nodes = nodeIndexes(l).map((i) => nodeContainer(l, i));
  log(`remove ${[edgeContainer(l), ...nodes, registryContainer(l)].join(', ')}`);
  await execa(DOCKER, ['rm', '--force', '--volumes', edgeContainer(l), ...nodes, registryContainer(l)], {
    reject: false,
  });
  const volumes = [...nodeIndexes(l).map((i) => nodeVolume(l, i)), registryContainer(l)];
  log(`remove volumes ${volumes.join(', ')} and network ${networkName(l)}`);
  await execa(DOCKER, ['volume', 'rm', ...volumes], { reject: false });
  await execa(DOCKER, ['network', 'rm', networkName(l)], { reject: false });
  await Promise.all(nodes.map(removeNodeCgroups));
  await removeSwarmState(l.name);
}

/**
 * The cgroups a node's engine made for its containers (--cgroup-parent=/<node>, in the host's tree: cgroup v1's
 * under each controller, or v2's one tree). A node killed leaves them behind, empty; a cgroup goes by rmdir of
 * each folder, deepest first (its files cannot be removed).
 */
async function removeNodeCgroups(node: string): Promise<void> {
  const roots = ['/sys/fs/cgroup', ...(await subfolders('/sys/fs/cgroup'))].map((dir) => path.join(dir, node));
  const removeTree = async (dir: string): Promise<void> => {
    for (const child of await subfolders(dir)) await removeTree(child);
    await rmdir(dir).catch(() => undefined);
  };
  await Promise.all(roots.map(removeTree));
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
}
