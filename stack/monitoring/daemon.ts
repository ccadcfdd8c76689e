import { mkdir } from 'node:fs/promises';
import type { StackConfig } from '../config.js';
import type { MonitoringFiles } from '../layout.js';
import { Supervised } from '../supervisor/supervised.js';
import { expectStatus } from '../helpers/wait.js';

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;

export interface DaemonSpec {
  files: MonitoringFiles;
  command: string;
  args: string[];
  /** Answers 200 once it serves. */
  readyUrl: string;
  /** Secrets go here, never in args (visible to every user in ps). */
  env?: Record<string, string>;
  /** stdout as a log of its own (the alert log's alerts.log). */
  outLog?: string;
}

/** A monitoring process: one folder, one rotating log, ready when its URL answers 200. */
export async function monitoringDaemon(
  config: StackConfig,
  spec: DaemonSpec,
  onCrash: (err: Error) => void,
): Promise<Supervised> {
  const { files } = spec;
  await mkdir(files.dir, { recursive: true, mode: 0o700 });
  return new Supervised(
    {
      name: files.name,
      command: spec.command,
      args: spec.args,
      log: files.log,
      ...(spec.outLog ? { outLog: spec.outLog } : {}),
      rotation: config.logRotation,
      cwd: files.dir,
      ...(spec.env ? { env: spec.env } : {}),
      graceMs: STOP_GRACE_MS,
      detached: true,
      ready: () => expectStatus(spec.readyUrl, 200),
      readyTimeoutMs: READY_TIMEOUT_MS,
    },
    onCrash,
  );
}
