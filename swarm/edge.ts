import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { DOCKER } from '../stack/compose/docker-cli.js';
import {
  edgeAddress,
  edgeContainer,
  networkName,
  NODE_HTTP_PORT,
  nodeAddress,
  nodeIndexes,
  stateDir,
  type SwarmLayout,
} from './layout.js';

/** The image the edge runs: the NGINX every deployment uses (a stand-in here). */
const EDGE_IMAGE = 'nginx:1.22-alpine';

/**
 * The load balancer in front of every node's NGINX, as a real user puts one in front of several hosts: a client
 * names one address and loses nothing when a host goes. A host that refuses or times out a connection is skipped
 * for 3 s; a request moves to the next host only when it failed before reaching one (NGINX's rule for POST), so a
 * purchase is never sent twice by the edge. It answers the contract's JSON when no host can.
 */
export function edgeConfig(l: SwarmLayout): string {
  const servers = nodeIndexes(l)
    .map((i) => `    server ${nodeAddress(l, i)}:${NODE_HTTP_PORT} max_fails=1 fail_timeout=3s;`)
    .join('\n');
  return `# Written by npm run swarm -- up (swarm/edge.ts): the edge in front of every node's NGINX.
worker_processes 1;
pid /var/run/nginx.pid;
error_log /var/log/nginx/error.log warn;
events {
  worker_connections 1024;
}
http {
  server_tokens off;
  default_type application/json;
  access_log off;
  upstream nodes {
    zone nodes 64k;
${servers}
  }
  server {
    listen ${NODE_HTTP_PORT};
    # A new connection per request, no keep-alive to the hosts: a host's NGINX reloads whenever the API tasks
    # change (an upgrade, a reschedule) and closes its idle connections then; a POST sent on one at that instant
    # fails and cannot be resent (3 502s in a rolling upgrade, measured).
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Request-Id $http_x_request_id;
    # A frozen host still accepts connections (its kernel runs) and never answers: its NGINX gives up on a frozen
    # API instance after 5 s (twice), so wait longer than that before calling a host dead. 5.5 s was tried: a
    # healthy host slowed by a failover then counted as dead too, and every host was out at once (72-90 of ~800
    # reads failed per freeze, against 0-30 with 12 s). Passive checks only (NGINX OSS): a read sent to a frozen
    # host waits; a balancer with active checks takes the host out within seconds (docs/across-hosts.md).
    proxy_connect_timeout 1s;
    proxy_send_timeout 12s;
    proxy_read_timeout 12s;
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 3;
    client_max_body_size 64k;
    error_page 502 504 = /_error;
    location / {
      proxy_pass http://nodes;
    }
    location = /_error {
      internal;
      return 502 '{"statusCode":502,"code":"BAD_GATEWAY","error":"Bad Gateway",
        "message":"No host could answer; retry shortly"}';
    }
  }
}
`;
}

/** Starts the edge (replacing one left over) on the nodes' network, published on the host at httpPort. */
export async function startEdge(l: SwarmLayout, httpPort: number): Promise<void> {
  const file = path.join(stateDir(l.name), 'edge.conf');
  await writeFile(file, edgeConfig(l));
  await execa(DOCKER, ['rm', '-f', edgeContainer(l)], { reject: false });
  await execa(DOCKER, [
    'run',
    '--detach',
    '--name',
    edgeContainer(l),
    '--restart',
    'unless-stopped',
    '--network',
    networkName(l),
    '--ip',
    edgeAddress(l),
    '--publish',
    `${httpPort}:${NODE_HTTP_PORT}`,
    '--volume',
    `${file}:/etc/nginx/nginx.conf:ro`,
    EDGE_IMAGE,
  ]);
}
