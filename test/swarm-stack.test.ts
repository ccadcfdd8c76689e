import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { repoRoot } from '../stack/layout.js';
import { dockerSecrets, newSecrets, type SwarmRecord } from '../swarm/state.js';

interface Service {
  deploy?: {
    mode?: string;
    endpoint_mode?: string;
    placement?: { constraints?: string[]; max_replicas_per_node?: number };
  };
  ports?: { mode?: string }[];
  configs?: { source: string; target: string }[];
  secrets?: { source: string; target: string }[];
  environment?: Record<string, string>;
  volumes?: string[];
}
interface Stack {
  version: string;
  services: Record<string, Service>;
  configs: Record<string, { name: string; file: string }>;
  secrets: Record<string, { external: boolean }>;
}

const file = path.join(repoRoot, 'swarm', 'stack.yml');
// Merge keys (<<: *anchor) as docker stack deploy reads them.
const stack = parse(readFileSync(file, 'utf8'), { merge: true }) as Stack;
const services = Object.entries(stack.services);

// What `docker stack deploy` would only find out on a swarm, checked without one (test/swarm.test.ts deploys it).
t.test('swarm/stack.yml: a stack Swarm accepts and that survives a host', async (t) => {
  t.match(stack.version, /^3\.\d+$/, 'a 3.x version (stack deploy refuses others)');
  for (const [name, service] of services) {
    t.equal(service.deploy?.endpoint_mode, 'dnsrr', `${name}: dnsrr (no IPVS here; Sentinel breaks behind a VIP)`);
    for (const port of service.ports ?? []) t.equal(port.mode, 'host', `${name}: its published port is mode host`);
    for (const config of service.configs ?? []) t.ok(stack.configs[config.source], `${name}: config ${config.source}`);
    for (const secret of service.secrets ?? []) t.ok(stack.secrets[secret.source], `${name}: secret ${secret.source}`);
    for (const volume of service.volumes ?? []) t.notOk(volume.startsWith('.'), `${name}: no bind mount of a checkout`);
  }
  for (const [name, config] of Object.entries(stack.configs)) {
    t.ok(existsSync(path.join(repoRoot, 'swarm', config.file)), `config ${name}: ${config.file} exists`);
    t.match(
      config.name,
      /\$\{CONFIG_VERSION:-1\}$/,
      `config ${name}: named with CONFIG_VERSION (configs are immutable)`,
    );
  }
  for (const i of [1, 2, 3]) {
    for (const kind of ['redis', 'sentinel']) {
      const constraints = stack.services[`${kind}-${i}`]?.deploy?.placement?.constraints;
      t.same(constraints, [`node.labels.evergreen.redis == ${i}`], `${kind}-${i} pinned to the host labelled ${i}`);
    }
  }
  t.equal(stack.services.api?.deploy?.placement?.max_replicas_per_node, 1, 'the API instances on different hosts');
  t.equal(stack.services.nginx?.deploy?.mode, 'global', 'NGINX on every host');
});

t.test('the secrets the stack names are the ones npm run swarm creates, and none is a variable', async (t) => {
  const record = { ...newSecrets('admin') } as SwarmRecord;
  t.same(Object.keys(stack.secrets).sort(), Object.keys(dockerSecrets(record)).sort(), 'the same names');
  for (const [name, service] of services) {
    for (const key of Object.keys(service.environment ?? {})) {
      t.notMatch(
        key,
        /^(REDIS_PASSWORD|SENTINEL_PASSWORD|JWT_SECRET|ADMIN_PASSWORD)$/,
        `${name}: ${key} is not a secret`,
      );
    }
  }
});
