import { SWARM_NODE_IMAGE } from './stand-ins.js';

/**
 * How the Swarm deployment runs its images on this machine: one node is SWARM_NODE_IMAGE (dockerd in a
 * container) with the options below, as test/swarm-images.test.ts proves. The images: buildSwarmImages (images.ts).
 */

/** The port the registry:2 stand-in listens on in its container, as the official image. */
export const REGISTRY_PORT = 5000;

export interface SwarmNode {
  /** The container's name, host name and NODE_NAME (its inner containers' cgroup parent, /name). */
  name: string;
  /** A user-defined network the nodes and the registry share. */
  network: string;
  /** A fixed address on it; Docker picks one when not given. */
  ip?: string;
  /** A named volume for the inner engine's /var/lib/docker: its images and Swarm state outlive the container. */
  volume: string;
  /** host:port of the private registry (plain HTTP): the inner engine pulls from it without TLS. */
  registry?: string;
  /** More `docker run` options (e.g. --label), before the image. */
  extra?: string[];
}

/**
 * The `docker` arguments (from `run` on) that start one Swarm node, detached. `--privileged` fails on this
 * machine: it asks for every capability, and the engine's own bounding set lacks CAP_SYS_RESOURCE, so runc
 * refuses ("unable to apply caps: operation not permitted"). What it would give, bar that, is asked for one by
 * one instead.
 */
export function swarmNodeRunArgs(node: SwarmNode): string[] {
  const { name, network, ip, volume, registry, extra = [] } = node;
  return [
    'run',
    '-d',
    ['--name', name],
    ['--hostname', name],
    ['--network', network],
    ip ? ['--ip', ip] : [],
    // dockerd, containerd and runc mount, make namespaces, bridges and iptables rules (SYS_ADMIN, NET_ADMIN…),
    // and an inner container can only be given a capability its node has: all of them, but the one the engine
    // itself lacks here (any container asking for SYS_RESOURCE fails to start).
    ['--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE'],
    // The default profile blocks keyctl: runc cannot give an inner container its session keyring.
    ['--security-opt', 'seccomp=unconfined'],
    // Docker's default AppArmor profile denies mount. No effect on a host without AppArmor (this one).
    ['--security-opt', 'apparmor=unconfined'],
    // /proc/sys writable: dockerd sets network sysctls (IPv6 router advertisements and forwarding, in the node
    // and in each container's namespace; Swarm's overlay and ingress networks set more).
    ['--security-opt', 'systempaths=unconfined'],
    // The host's cgroup tree, writable: a container's own is read-only, and runc makes the inner containers'
    // cgroups there (under /<name>, dockerd's --cgroup-parent: see docker/images/swarm-node/entrypoint.sh).
    ['-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw'],
    // overlay2 cannot be stacked on the node's own overlay root: the inner engine's data on a volume.
    ['-v', `${volume}:/var/lib/docker`],
    ['-e', `NODE_NAME=${name}`],
    registry ? ['-e', `REGISTRY=${registry}`] : [],
    extra,
    SWARM_NODE_IMAGE,
  ].flat();
}
