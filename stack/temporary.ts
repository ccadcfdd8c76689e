import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULTS } from '../src/config-defaults.js';
import type { StackConfig } from './config.js';
import { freePorts } from './ports.js';

/** What differs between the throwaway stacks of the tests and of the drill. */
export type TemporarySettings = Pick<
  StackConfig,
  'downAfterMs' | 'failoverTimeoutMs' | 'admin' | 'apiRunner' | 'apiEnv'
>;

/**
 * A stack of its own: a fresh temp folder (named after `purpose`), free ports below 32768 and secrets of its
 * own, so that a developer's running stack is never touched. The caller removes the folder.
 */
export async function temporaryStackConfig(purpose: string, settings: TemporarySettings): Promise<StackConfig> {
  const dir = await makeTempDir(purpose);
  const [httpPort, statusPort, api1, api2, ...rest] = (await freePorts(10)) as [
    number,
    number,
    number,
    number,
    ...number[],
  ];
  const secret = (bytes: number) => randomBytes(bytes).toString('hex');
  return {
    dir,
    host: DEFAULTS.host,
    httpPort,
    statusPort,
    apiPorts: [api1, api2],
    redisPorts: rest.slice(0, 3),
    sentinelPorts: rest.slice(3, 6),
    masterName: DEFAULTS.masterName,
    redisPassword: secret(12),
    sentinelPassword: secret(12),
    jwtSecret: secret(32),
    ...settings,
  };
}

/** A fresh folder in the system's temp folder, named after purpose (evergreen-<purpose>-XXXXXX). */
export const makeTempDir = (purpose: string) => mkdtemp(path.join(os.tmpdir(), `evergreen-${purpose}-`));
