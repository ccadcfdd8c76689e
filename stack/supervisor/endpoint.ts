import { createServer, type ServerResponse } from 'node:http';
import { supervisedStates, supervisorRegistry } from './metrics.js';
import type { Supervised } from './supervised.js';

/** The launcher's own HTTP endpoint: what its supervisor did, for Prometheus and for `npm run status`. */
export interface SupervisorEndpoint {
  /** host:port, as Prometheus's target. */
  readonly address: string;
  /** http://host:port: GET /metrics (Prometheus text), GET /status (JSON, one SupervisedState per process). */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves GET /metrics and GET /status about processes() (read at each request) on host:port. */
export async function serveSupervisor(
  host: string,
  port: number,
  processes: () => Supervised[],
): Promise<SupervisorEndpoint> {
  const registry = supervisorRegistry(processes);
  const send = (res: ServerResponse, status: number, type: string, body: string) =>
    res.writeHead(status, { 'content-type': type }).end(body);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://supervisor').pathname;
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'GET only\n');
    if (path === '/status') return send(res, 200, 'application/json', JSON.stringify(supervisedStates(processes())));
    if (path !== '/metrics') return send(res, 404, 'text/plain', 'GET /metrics or /status\n');
    registry.metrics().then(
      (text) => send(res, 200, registry.contentType, text),
      (err: Error) => send(res, 500, 'text/plain', `${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = `${host}:${port}`;
  return {
    address,
    url: `http://${address}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // Prometheus's keep-alive connection
      }),
  };
}
