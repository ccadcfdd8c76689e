import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULTS } from '../../src/config-defaults.js';
import type { StackConfig } from '../config.js';
import { freePorts } from './ports.js';
import { generateRedisSecrets } from './redis-users.js';
import { DEFAULT_LOG_ROTATION } from '../supervisor/log-file.js';

/** What differs between the throwaway stacks of the tests and of the drill. */
export type TemporarySettings = Pick<
  StackConfig,
  'downAfterMs' | 'failoverTimeoutMs' | 'admin' | 'apiRunner' | 'apiEnv' | 'nginxExtraLocations' | 'apiInspectPorts'
> & {
  /** Also run Prometheus, Alertmanager, the exporters and the alert log (slower to start). */
  monitoring?: boolean;
};

/**
 * A stack of its own: a fresh temp folder (named after `purpose`), free ports below 32768 and secrets of its
 * own, so that a developer's running stack is never touched. The caller removes the folder.
 */
export async function temporaryStackConfig(purpose: string, settings: TemporarySettings): Promise<StackConfig> {
  const dir = await makeTempDir(purpose);
  const [httpPort, statusPort, api1, api2, ...rest] = (await freePorts(16)) as [
    number,
    number,
    number,
    number,
    ...number[],
  ];
  const [prometheusPort, alertmanagerPort, alertLogPort, redisExporterPort, sentinelExporterPort, nginxExporterPort] =
    rest.slice(6) as [number, number, number, number, number, number];
  const { monitoring, ...others } = settings;
  const secret = (bytes: number) => randomBytes(bytes).toString('hex');
  return {
    dir,
    host: DEFAULTS.host,
    httpPort,
    statusPort,
    apiPorts: [api1, api2],
    redisPorts: rest.slice(0, 3),
    sentinelPorts: rest.slice(3, 6),
    monitoring: monitoring
      ? {
          prometheusPort,
          alertmanagerPort,
          alertLogPort,
          redisExporterPort,
          sentinelExporterPort,
          nginxExporterPort,
          webhookUrl: undefined,
        }
      : undefined,
    logRotation: DEFAULT_LOG_ROTATION,
    backupKeep: 7,
    masterName: DEFAULTS.masterName,
    redisSecrets: generateRedisSecrets(),
    keyPrefix: DEFAULTS.keyPrefix,
    jwtSecret: secret(32),
    ...others,
  };
}

/** A fresh folder in the system's temp folder, named after purpose (evergreen-<purpose>-XXXXXX). */
export const makeTempDir = (purpose: string) => mkdtemp(path.join(os.tmpdir(), `evergreen-${purpose}-`));
