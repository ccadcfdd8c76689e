import { setTimeout as sleep } from 'node:timers/promises';
import { expectStatus, waitFor } from '../stack/helpers/wait.js';
import { askManagers } from './node-docker.js';
import { NODE_HTTP_PORT, nodeAddress, nodeIndexes, STACK, type SwarmLayout } from './layout.js';

const CONVERGE_TIMEOUT_MS = 300_000;
const PROGRESS_EVERY_MS = 10_000;

/** Each service of the stack with its running and wanted tasks (global: one per node). */
export async function serviceReplicas(l: SwarmLayout): Promise<{ service: string; running: number; wanted: number }[]> {
  const out = await askManagers(l, [
    'service',
    'ls',
    '--filter',
    `label=com.docker.stack.namespace=${STACK}`,
    '--format',
    '{{.Name}} {{.Replicas}}',
  ]);
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name = '', replicas = ''] = line.split(' ');
      const [running = 0, wanted = 0] = replicas.split('/').map(Number);
      return { service: name.replace(`${STACK}_`, ''), running, wanted };
    });
}

/** Resolves once every service runs all the tasks it wants, saying every 10 s which do not yet. */
export async function waitConverged(
  l: SwarmLayout,
  log: (msg: string) => void,
  timeoutMs = CONVERGE_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let said = Date.now();
  for (;;) {
    const services = await serviceReplicas(l).catch(() => []);
    const behind = services.filter((s) => s.running !== s.wanted);
    if (services.length > 0 && behind.length === 0) return;
    const what = behind.map((s) => `${s.service} ${s.running}/${s.wanted}`).join(', ') || 'no answer yet';
    if (Date.now() >= deadline) throw new Error(`the stack did not converge in ${timeoutMs / 1000} s: ${what}`);
    if (Date.now() - said >= PROGRESS_EVERY_MS) {
      log(`  not yet: ${what}`);
      said = Date.now();
    }
    await sleep(1000);
  }
}

/**
 * Resolves once every node's NGINX, and the edge, answer a public API route: each NGINX routes to the API tasks
 * only once it has read them from Swarm's DNS (within a second of their start), and a client's first requests may
 * go to any of them.
 */
export async function waitServing(r: SwarmLayout & { httpPort: number }, timeoutMs = 120_000): Promise<void> {
  const bases = [
    `http://127.0.0.1:${r.httpPort}`,
    ...nodeIndexes(r).map((i) => `http://${nodeAddress(r, i)}:${NODE_HTTP_PORT}`),
  ];
  await Promise.all(
    bases.map((base) =>
      waitFor(`the API through ${base}`, timeoutMs, () => expectStatus(`${base}/api/v1/products?limit=1`, 200, 3000)),
    ),
  );
}
