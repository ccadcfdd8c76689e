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
  await removeSwarmState(l.name);
}
