import type { StackConfig } from '../../stack/config.js';
import { resolveCredentials } from '../../stack/helpers/credentials.js';
import { stateLayout } from '../../stack/layout.js';
import { assertPortsFree } from '../../stack/helpers/ports.js';
import { redisTier, stackTopologyOptions } from '../../stack/topology/tier.js';
import { startTopology } from '../../stack/topology/topology.js';
import { LocalView, type LocalStackFacts, type StackControl } from '../deployment/local.js';
import { hasNodeData } from './node-files.js';

/** Whether any Redis node of the state folder ever ran (it has data files). */
export const anyNodeData = (config: StackConfig) =>
  config.redisPorts.some((port) => hasNodeData(stateLayout(config.dir).redis(port).dir));

/**
 * The stack's Redis nodes and Sentinels alone, started from the state folder for a backup or a restore while
 * the stack itself is stopped; the caller stops them.
 */
export async function startStackRedis({ config, credentials }: LocalStackFacts, log: (msg: string) => void) {
  await assertPortsFree(config.host, redisTier.ports(config));
  return startTopology(stackTopologyOptions(config, credentials.redis, log));
}

/**
 * Runs work with the stack's Redis up, on its view: the running stack's, or its nodes started alone for the time
 * of it. A state folder no stack has used holds nothing to work on.
 */
export async function withStackRedis<T>(
  config: StackConfig,
  control: StackControl,
  log: (msg: string) => void,
  work: (view: LocalView) => Promise<T>,
): Promise<T> {
  const running = await control.isRunning();
  if (!running && !anyNodeData(config))
    throw new Error(`no stack has run from ${config.dir}: there is no data to back up`);
  const stack: LocalStackFacts = { config, credentials: await resolveCredentials(config) };
  if (running) return work(new LocalView(stack));
  log(`the stack is stopped: starting its Redis nodes and Sentinels alone from ${config.dir}`);
  const topology = await startStackRedis(stack, log);
  try {
    return await work(new LocalView(stack));
  } finally {
    await topology.stop();
    log('its Redis nodes and Sentinels stopped again');
  }
}
