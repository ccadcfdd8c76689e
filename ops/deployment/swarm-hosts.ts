import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { DOCKER } from '../../stack/compose/docker-cli.js';
import { waitFor } from '../../stack/helpers/wait.js';
import { nodeAddress, nodeContainer, nodeIndexes, registryForNodes, STACK } from '../../swarm/layout.js';
import { askManagers, containerState, nodeDocker, runningTasks } from '../../swarm/node-docker.js';
import type { SwarmRecord } from '../../swarm/state.js';
import type { HostControl } from './deployment.js';

const HOST_START_TIMEOUT_MS = 120_000;
const UPGRADE_TIMEOUT_MS = 300_000;
/** The iptables chain that cuts a node off from the others (inside the node container). */
const CUT_CHAIN = 'EVERGREEN-CUT';

/** The freezer of the cgroup the node's containers run in: cgroup v1's freezer controller, or v2's cgroup.freeze. */
async function setFrozen(host: string, frozen: boolean): Promise<void> {
  const v1 = `/sys/fs/cgroup/freezer/${host}/freezer.state`;
  const v2 = `/sys/fs/cgroup/${host}/cgroup.freeze`;
  if (existsSync(v1)) await writeFile(v1, frozen ? 'FROZEN' : 'THAWED');
  else if (existsSync(v2)) await writeFile(v2, frozen ? '1' : '0');
  else if (frozen) throw new Error(`no freezer for ${host}'s containers (${v1}, ${v2})`);
}

/**
 * The nodes of a swarm on this machine as hosts that fail whole: each is a container of this machine's engine,
 * killed (power lost), paused (frozen), cut off by iptables inside it (its own netfilter: the overlay's VXLAN
 * packets leave through it), drained through a manager.
 */
export class SwarmHosts implements HostControl {
  private upgrades = 0;

  constructor(private readonly record: SwarmRecord) {}

  hosts(): string[] {
    return nodeIndexes(this.record).map((i) => nodeContainer(this.record, i));
  }
  async hostOf(member: string): Promise<string> {
    const pinned = /^(?:redis|sentinel)-(\d+)$/.exec(member);
    if (pinned) return nodeContainer(this.record, Number(pinned[1]));
    const api = /^api@(.+)$/.exec(member);
    if (api?.[1]) return api[1];
    throw new Error(`no host for ${member}`);
  }
  /** docker kill of the node container: its engine and every task on it die at once, as with a power cut. */
  async kill(host: string): Promise<void> {
    await execa(DOCKER, ['kill', host]);
  }
  /** docker start: its engine comes back (the entrypoint clears the stale pid files), then Swarm sees it ready. */
  async start(host: string): Promise<void> {
    await execa(DOCKER, ['start', host]);
    await waitFor(`${host}'s engine`, HOST_START_TIMEOUT_MS, () => nodeDocker(host, ['info', '--format', '{{.ID}}']));
    await waitFor(`${host} to be ready in the swarm`, HOST_START_TIMEOUT_MS, async () => {
      const status = await askManagers(this.record, ['node', 'inspect', '--format', '{{.Status.State}}', host]);
      if (status !== 'ready') throw new Error(`it is ${status}`);
    });
  }
  /**
   * Every process of the host frozen: its engine (docker pause of the node container) and its containers, which
   * live in a cgroup of their own (the node's dockerd runs them under --cgroup-parent=/<node>, beside the node
   * container's, so docker pause alone leaves them running: a drill measured a frozen "host" whose Redis master
   * kept answering, and whose Sentinel stalled on the frozen engine's DNS).
   */
  async freeze(host: string): Promise<void> {
    await setFrozen(host, true);
    await execa(DOCKER, ['pause', host]);
  }
  /** Thaws what freeze froze; a no-op for what is not frozen. */
  async thaw(host: string): Promise<void> {
    if ((await containerState(host)) === 'paused') await execa(DOCKER, ['unpause', host]);
    await setFrozen(host, false);
  }
  /** Every packet between this node and the others dropped, both ways, inside the node (its own netfilter). */
  async cutOff(host: string): Promise<void> {
    const others = nodeIndexes(this.record).filter((i) => nodeContainer(this.record, i) !== host);
    const rules = [['-N', CUT_CHAIN]];
    for (const i of others) {
      rules.push(['-A', CUT_CHAIN, '-s', nodeAddress(this.record, i), '-j', 'DROP']);
      rules.push(['-A', CUT_CHAIN, '-d', nodeAddress(this.record, i), '-j', 'DROP']);
    }
    rules.push(['-I', 'INPUT', '-j', CUT_CHAIN], ['-I', 'OUTPUT', '-j', CUT_CHAIN]);
    for (const rule of rules) await execa(DOCKER, ['exec', host, 'iptables', '-w', ...rule]);
  }
  /** Removes the cut, if any. */
  async reconnect(host: string): Promise<void> {
    const exists = await execa(DOCKER, ['exec', host, 'iptables', '-w', '-n', '-L', CUT_CHAIN], { reject: false });
    if (exists.exitCode !== 0) return;
    for (const rule of [
      ['-D', 'INPUT', '-j', CUT_CHAIN],
      ['-D', 'OUTPUT', '-j', CUT_CHAIN],
      ['-F', CUT_CHAIN],
      ['-X', CUT_CHAIN],
    ])
      await execa(DOCKER, ['exec', host, 'iptables', '-w', ...rule], { reject: false });
  }
  async drain(host: string): Promise<void> {
    await askManagers(this.record, ['node', 'update', '--availability', 'drain', host]);
  }
  async activate(host: string): Promise<void> {
    const availability = await askManagers(this.record, [
      'node',
      'inspect',
      '--format',
      '{{.Spec.Availability}}',
      host,
    ]);
    if (availability !== 'active') await askManagers(this.record, ['node', 'update', '--availability', 'active', host]);
  }
  /**
   * The API image pushed again under a new tag, and `docker service update --image` of the API: Swarm replaces
   * one task at a time, the new one started and healthy before the old one stops (the stack's update_config).
   */
  async upgradeApi(): Promise<string> {
    this.upgrades += 1;
    const tag = `upgrade-${this.upgrades}-${randomBytes(2).toString('hex')}`;
    const pushed = `127.0.0.1:${this.record.registryPort}/evergreen-api:${tag}`;
    await execa(DOCKER, ['tag', 'evergreen-api:latest', pushed]);
    await execa(DOCKER, ['push', '--quiet', pushed]);
    await execa(DOCKER, ['rmi', pushed], { reject: false });
    const image = `${registryForNodes(this.record)}/evergreen-api:${tag}`;
    const update = ['service', 'update', '--detach=false', '--quiet', '--image', image, `${STACK}_api`];
    await askManagers(this.record, update, UPGRADE_TIMEOUT_MS);
    return tag;
  }
  async placement(): Promise<string[]> {
    const tasks = await runningTasks(this.record, STACK);
    return tasks
      .filter((t) => t.state.startsWith('Running'))
      .map((t) => `${t.service}@${t.node}`)
      .sort();
  }
}
