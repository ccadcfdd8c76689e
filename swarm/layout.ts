import path from 'node:path';
import { repoRoot } from '../stack/layout.js';

/**
 * One Swarm on this machine: N Docker-in-Docker nodes on a bridge network of their own, a registry and an edge
 * load balancer beside them. Every name derives from `name` (evergreen unless a test picks its own), every
 * address from the network's /24 `prefix`.
 */
export interface SwarmLayout {
  name: string;
  /** The nodes' network as its first three octets (e.g. 172.31.240). */
  prefix: string;
  nodes: number;
}

/** The stack's name inside the swarm: services are evergreen_redis-1, evergreen_api, … */
export const STACK = 'evergreen';
/** Where each node sees this checkout (read-only): `docker stack deploy` reads the stack file and configs there. */
export const CHECKOUT_IN_NODE = '/evergreen-src';
/** The stack file, relative to the checkout. */
export const STACK_FILE = 'swarm/stack.yml';
/** Port of NGINX on every node, of the registry in its container. */
export const NODE_HTTP_PORT = 8080;
export const REGISTRY_PORT = 5000;

export const nodeIndexes = (l: SwarmLayout) => Array.from({ length: l.nodes }, (_, i) => i + 1);
export const nodeContainer = (l: SwarmLayout, i: number) => `${l.name}-node-${i}`;
export const nodeAddress = (l: SwarmLayout, i: number) => `${l.prefix}.${10 + i}`;
export const nodeVolume = (l: SwarmLayout, i: number) => `${l.name}-node-${i}`;
export const networkName = (l: SwarmLayout) => `${l.name}-nodes`;
export const registryContainer = (l: SwarmLayout) => `${l.name}-registry`;
export const registryAddress = (l: SwarmLayout) => `${l.prefix}.5`;
/** The registry as the nodes name it in image references (plain HTTP: each node's --insecure-registry). */
export const registryForNodes = (l: SwarmLayout) => `${registryAddress(l)}:${REGISTRY_PORT}`;
export const edgeContainer = (l: SwarmLayout) => `${l.name}-edge`;
export const edgeAddress = (l: SwarmLayout) => `${l.prefix}.6`;
/** The node labelled evergreen.monitoring=true: the last one (node 1 starts as the Redis master's host). */
export const monitoringNode = (l: SwarmLayout) => l.nodes;

/** This machine's record of its swarms: .swarm/<name>/ (git-ignored; the secrets are in it). */
export const stateDir = (name: string) => path.join(repoRoot, '.swarm', name);
