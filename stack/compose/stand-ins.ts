import path from 'node:path';
import { repoRoot } from '../layout.js';
import { hostCaHash, unpackNode } from './node-dist.js';

/** The stand-ins' Dockerfiles, one folder each, and base/ (the files laid over the debootstrap tree). */
export const IMAGES_DIR = path.join(repoRoot, 'docker', 'images');

/** Every stand-in is FROM this: Debian bookworm from debootstrap (minbase), made on this machine. */
export const BASE_IMAGE = 'evergreen/debian-base:bookworm';

/** Names the official image an image stands in for: an image without it is never replaced. */
export const STAND_IN_LABEL = 'org.evergreen.stand-in';
/** The content hash of what an image was built from: the same hash, nothing to rebuild. */
export const HASH_LABEL = 'org.evergreen.stand-in.hash';
/** Marks the base image as ours (it stands in for no official image). */
export const BASE_LABEL = 'org.evergreen.base';
/** Marks an image of our own built FROM the base (it stands in for no official image); its value is the tag. */
export const OWN_LABEL = 'org.evergreen.own';

/** An image built from a folder of docker/images/, FROM the base: a stand-in or one of our own. */
export interface ImageSpec {
  tag: string;
  /**
   * The label that marks it as ours, set to its tag (STAND_IN_LABEL unless given): an image under its name
   * without it is never replaced.
   */
  label?: typeof STAND_IN_LABEL | typeof OWN_LABEL;
  /** Its folder under docker/images/: Dockerfile and the scripts it copies. */
  folder: string;
  /** Passed with --build-arg and part of the hash: a new version is a new image. */
  buildArgs?: Record<string, string>;
  /** Adds to the build context what cannot come from Debian (downloaded on the host). */
  prepare?: (context: string, buildArgs: Record<string, string>, log: (msg: string) => void) => Promise<void>;
}

export interface StandIn extends ImageSpec {
  /** compose.yml's default for `variable`, exactly: Compose then uses the stand-in with no variable set. */
  tag: string;
  variable: string;
}

export const STAND_INS: readonly StandIn[] = [
  { tag: 'redis:7.0', variable: 'REDIS_IMAGE', folder: 'redis' },
  { tag: 'nginx:1.22-alpine', variable: 'NGINX_IMAGE', folder: 'nginx' },
  {
    tag: 'node:20-bookworm-slim',
    variable: 'NODE_IMAGE',
    folder: 'node',
    // Pinned so a cached image is known current without asking the registry; npm is the one Node 20 bundles.
    // HOST_CA: the host's extra CAs, which the image trusts too (see node-dist.ts).
    buildArgs: { NODE_VERSION: '20.20.2', NPM_VERSION: '10.8.2', HOST_CA: await hostCaHash() },
    prepare: unpackNode,
  },
  { tag: 'prom/prometheus:v2.42.0', variable: 'PROMETHEUS_IMAGE', folder: 'prometheus' },
  { tag: 'prom/alertmanager:v0.25.0', variable: 'ALERTMANAGER_IMAGE', folder: 'alertmanager' },
  { tag: 'oliver006/redis_exporter:v1.45.0-alpine', variable: 'REDIS_EXPORTER_IMAGE', folder: 'redis-exporter' },
  { tag: 'nginx/nginx-prometheus-exporter:0.11.0', variable: 'NGINX_EXPORTER_IMAGE', folder: 'nginx-exporter' },
];

/** compose.yml's images with no stand-in, and why. */
export const NO_STAND_IN = [
  { tag: 'grafana/grafana-oss:11.6.0', variable: 'GRAFANA_IMAGE', why: 'no Debian package and no npm distribution' },
] as const;

/** The Swarm deployment's private registry: a stand-in for the official image, with no compose.yml variable. */
export const REGISTRY_IMAGE = 'registry:2';
/** One Swarm node (dockerd in a container): our own image, run with swarmNodeRunArgs (swarm-images.ts). */
export const SWARM_NODE_IMAGE = 'evergreen/swarm-node:bookworm';

/** What the Swarm deployment runs (buildSwarmImages), apart from STAND_INS: not built for Compose. */
export const SWARM_IMAGES: readonly ImageSpec[] = [
  { tag: REGISTRY_IMAGE, folder: 'registry' },
  { tag: SWARM_NODE_IMAGE, folder: 'swarm-node', label: OWN_LABEL },
];
