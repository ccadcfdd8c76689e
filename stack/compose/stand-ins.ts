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

export interface StandIn {
  /** compose.yml's default for `variable`, exactly: Compose then uses the stand-in with no variable set. */
  tag: string;
  variable: string;
  /** Its folder under docker/images/: Dockerfile and the scripts it copies. */
  folder: string;
  /** Passed with --build-arg and part of the hash: a new version is a new image. */
  buildArgs?: Record<string, string>;
  /** Adds to the build context what cannot come from Debian (downloaded on the host). */
  prepare?: (context: string, buildArgs: Record<string, string>, log: (msg: string) => void) => Promise<void>;
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
