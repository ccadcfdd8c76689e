import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from '../../stack/helpers/wait.js';
import { countKeys, type KeyCounts } from './counts.js';

// A snapshot of a few hundred thousand keys loads in about a second; a big one may take minutes.
const LOAD_TIMEOUT_MS = 600_000;
const NO_RETRIES = { maxRetriesPerRequest: 0, retryStrategy: () => null };

/**
 * Loads an RDB file into a throwaway redis-server of this machine's Redis and counts what it holds. It
 * listens on a Unix socket in a private temp folder only (no port to collide with, nobody else can reach it),
 * persists nothing, and is gone when this returns. This is how a backup learns its counts from the very
 * snapshot it archives, and how a restore proves, before it touches anything, that this machine's Redis reads
 * the archive's snapshot (its format version, Redis's own CRC64) and finds what the manifest says.
 */
export async function countInScratchRedis(rdb: string, keyPrefix: string, redisServer = 'redis-server') {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'evergreen-scratch-'));
  const socket = path.join(dir, 'redis.sock');
  await copyFile(rdb, path.join(dir, 'dump.rdb'));
  const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir];
  const quiet = ['--dbfilename', 'dump.rdb', '--appendonly', 'no', '--save', '', '--daemonize', 'no', '--logfile', ''];
  const server = spawn(redisServer, [...args, ...quiet], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let failed: Error | undefined;
  server.once('error', (err) => (failed = new Error(`cannot run ${redisServer}: ${err.message}`)));
  const exited = () => {
    if (failed || (server.exitCode === null && server.signalCode === null)) return failed;
    const why = lastWords(output) || (server.signalCode ?? `exit code ${server.exitCode}`);
    return new Error(`this machine's Redis cannot load the snapshot: ${why}`);
  };
  let redis: Redis | undefined;
  const connect = async () => {
    const client = new Redis({ path: socket, lazyConnect: true, enableReadyCheck: false, ...NO_RETRIES });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping(); // LOADING while it reads the file
      return client;
    } catch (err) {
      client.disconnect();
      throw err;
    }
  };
  try {
    redis = await waitFor('the scratch Redis to load the snapshot', LOAD_TIMEOUT_MS, connect, exited);
    const counts: KeyCounts = await countKeys(redis, keyPrefix);
    return { counts, redisVersion: /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown' };
  } finally {
    redis?.disconnect();
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGKILL');
      await once(server, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  }
}

/** The lines a failed redis-server printed that say why ("# Can't handle RDB format version 11", …). */
function lastWords(output: string): string {
  const warnings = output.split('\n').filter((line) => /#|Short read|checksum|RDB|error/i.test(line));
  return warnings
    .slice(-3)
    .map((line) => line.replace(/^\d+:[A-Z] [^*#]*[*#] /, '').trim())
    .join(' / ');
}
