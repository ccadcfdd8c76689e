import { freePorts } from '../helpers/ports.js';
import type { StackTier } from '../tiers.js';
import { serveSupervisor } from './endpoint.js';

/**
 * The launcher's endpoint on SUPERVISOR_PORT (GET /metrics, GET /status): every process's restarts, up and
 * gave-up state. A tier of its own, first up and last down, so it answers during start-up and with
 * STACK_MONITORING=off too (`npm run status` reads it). A throwaway stack's config names no port: a free one then.
 */
export const supervisorTier: StackTier = {
  ports: ({ supervisorPort }) =>
    supervisorPort === undefined ? [] : [{ port: supervisorPort, what: "the supervisor's endpoint (SUPERVISOR_PORT)" }],
  async start(host) {
    const { config } = host;
    const port = config.supervisorPort ?? (await freePorts(1))[0];
    if (port === undefined) throw new Error('no free port for the supervisor');
    const endpoint = await serveSupervisor(config.host, port, () => host.supervised());
    host.procs.supervisor = endpoint;
    return `supervisor: restarts on ${endpoint.url}/metrics and ${endpoint.url}/status`;
  },
  stop: async (host) => {
    await host.procs.supervisor?.close();
    host.procs.supervisor = undefined;
  },
};
