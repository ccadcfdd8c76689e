import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { StackConfig } from '../../stack/config.js';
import { resolveCredentials } from '../../stack/helpers/credentials.js';
import { stateLayout } from '../../stack/layout.js';
import type { DeploymentView, Member } from '../deployment/deployment.js';
import { LocalView, type LocalStackFacts, type StackControl } from '../deployment/local.js';
import { ArchiveError, openArchive, type OpenedArchive } from './archive.js';
import { countDifferences, countOn, describeCounts, type KeyCounts } from './counts.js';
import { anyNodeData, startStackRedis } from './local.js';
import { versionProblem, type Manifest } from './manifest.js';
import { PRE_RESTORE, replaceNodeData, rollbackNodeData } from './node-files.js';
import { countInScratchRedis } from './scratch.js';

export interface RestoreOptions {
  /** Replace a stack that holds data. */
  force: boolean;
  log: (msg: string) => void;
}

export interface RestoreResult {
  manifest: Manifest;
  /** What each node held once restored, master first. */
  nodes: { node: string; counts: KeyCounts }[];
  /** Whether the stack ran before, and so was started again. */
  restarted: boolean;
  /** Seconds each step took: verify, stop (the stack), place (on every node), start and count, start the stack. */
  seconds: Record<'verify' | 'stop' | 'place' | 'check' | 'restart', number>;
}

/** "Redis server v=7.0.15 sha=…" → 7.0.15. */
export async function localRedisVersion(): Promise<string> {
  const { stdout } = await execa('redis-server', ['--version']);
  return /v=(\d+\.\d+\.\d+)/.exec(stdout)?.[1] ?? 'unknown';
}

/**
 * Everything a restore checks before it touches anything: the archive itself (archive.ts), that this machine's
 * Redis can read its snapshot, that the service would find the data under its KEY_PREFIX, and that the
 * snapshot, loaded into a scratch Redis, holds what the manifest says.
 */
export async function verifyArchive(file: string, work: string, keyPrefix: string, log: (msg: string) => void) {
  const opened: OpenedArchive = await openArchive(file, work);
  const { manifest: m, snapshot } = opened;
  const refuse = (why: string): never => {
    throw new ArchiveError(`${file} is refused: ${why}. Nothing was changed.`);
  };
  log(
    `archive verified: taken ${m.createdAt} from replica ${m.source.replica} of ${m.source.master} ` +
      `(${m.source.deployment}), replication offset ${m.source.replicationOffset}; checksums match`,
  );
  const here = await localRedisVersion();
  const problem = versionProblem(m.redis.version, m.redis.rdbVersion, here);
  if (problem) refuse(problem);
  if (m.keyPrefix !== keyPrefix) {
    refuse(
      `its data is under KEY_PREFIX "${m.keyPrefix}", this stack's is "${keyPrefix}" (set KEY_PREFIX to restore it)`,
    );
  }
  const { counts } = await countInScratchRedis(snapshot, m.keyPrefix).catch((err: Error) => refuse(err.message));
  const differences = countDifferences(m.counts, counts);
  if (differences.length > 0) refuse(`its snapshot does not hold what its manifest says (${differences.join('; ')})`);
  log(`snapshot loads in this machine's Redis ${here} and holds ${describeCounts(counts)}, as its manifest says`);
  return opened;
}

/**
 * `npm run restore -- FILE [--force]` on the local stack: verifies the archive, refuses a stack holding data
 * without --force, stops the stack if it runs, puts the snapshot on every node (replicas too, so no replica
 * resyncs old data back), starts the nodes and Sentinels from the state folder, checks every node's counts
 * against the manifest, and starts the stack again if it ran. A failure after the nodes were touched puts
 * every node's previous data back.
 */
export async function restoreLocal(
  config: StackConfig,
  control: StackControl,
  file: string,
  { force, log }: RestoreOptions,
): Promise<RestoreResult> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'evergreen-restore-'));
  const seconds = { verify: 0, stop: 0, place: 0, check: 0, restart: 0 };
  let from = performance.now();
  const lap = (step: keyof typeof seconds) => {
    seconds[step] = (performance.now() - from) / 1000;
    from = performance.now();
  };
  try {
    const { manifest, snapshot } = await verifyArchive(file, work, config.keyPrefix, log);
    // A state folder no stack has used yet (a new machine) gets its folder and credentials here.
    await mkdir(config.dir, { recursive: true, mode: 0o700 });
    const stack: LocalStackFacts = { config, credentials: await resolveCredentials(config) };
    const running = await control.isRunning();
    if (!force) await refuseIfHoldsData(stack, running, log);
    lap('verify');
    if (running) {
      log('stopping the running stack (as `npm run down` does)');
      await control.stopStack();
    }
    lap('stop');
    const layout = stateLayout(config.dir);
    const nodeDirs = config.redisPorts.map((port) => layout.redis(port).dir);
    let nodes: RestoreResult['nodes'];
    const touched: string[] = [];
    try {
      for (const dir of nodeDirs) {
        touched.push(dir);
        await replaceNodeData(dir, snapshot);
      }
      log(
        `snapshot placed on all ${nodeDirs.length} nodes; the data it replaced is kept in each one's ${PRE_RESTORE}/`,
      );
      lap('place');
      nodes = await startAndCount(stack, manifest, log);
      lap('check');
    } catch (err) {
      log(`restore failed (${(err as Error).message}): putting every node's previous data back`);
      // Only the nodes this restore reached: another keeps its data, and an older restore's pre-restore/ with it.
      for (const dir of touched) await rollbackNodeData(dir);
      if (running) await control.startStack();
      throw err;
    }
    if (running) {
      log('starting the stack again (as `npm run up` does)');
      await control.startStack();
    }
    lap('restart');
    return { manifest, nodes, restarted: running, seconds };
  } finally {
    // A refused archive's extraction may still be closing a file it wrote (tar rejects first): ENOTEMPTY, retried.
    await rm(work, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

/**
 * Counts every node, master first (marked so), and fails unless each holds what the manifest says: the last check
 * of a restore, the local stack's and a Compose project's.
 */
export async function checkEveryNode(
  view: DeploymentView,
  masterFirst: Member[],
  manifest: Manifest,
  log: (msg: string) => void,
) {
  const nodes: { node: string; counts: KeyCounts }[] = [];
  for (const [i, node] of masterFirst.entries()) {
    const counts = await countOn(node, view.redisAdmin, view.keyPrefix);
    nodes.push({ node: `${node.name}${i === 0 ? ' (master)' : ''}`, counts });
  }
  const wrong = nodes.flatMap(({ node, counts }) =>
    countDifferences(manifest.counts, counts).map((d) => `${node}: ${d}`),
  );
  if (wrong.length > 0) throw new Error(`the nodes do not hold what the manifest says: ${wrong.join('; ')}`);
  for (const { node, counts } of nodes) log(`  ${node}: ${describeCounts(counts)}`);
  return nodes;
}

async function startAndCount(stack: LocalStackFacts, manifest: Manifest, log: (m: string) => void) {
  log('starting the Redis nodes and Sentinels on the restored data');
  const topology = await startStackRedis(stack, log);
  try {
    const view = new LocalView(stack);
    const master = await view.master();
    const others = (await view.nodes()).filter((node) => node.name !== master.name);
    const nodes = await checkEveryNode(view, [master, ...others], manifest, log);
    log(`every node holds what the manifest says; the Sentinels agree on ${nodes[0]?.node ?? 'the master'}`);
    return nodes;
  } finally {
    await topology.stop();
  }
}

/** Refuses (throws) when the stack's data would be replaced: a running stack's master, or a stopped one's. */
async function refuseIfHoldsData(stack: LocalStackFacts, running: boolean, log: (msg: string) => void) {
  const view = new LocalView(stack);
  const masterCounts = async () => countOn(await view.master(), view.redisAdmin, view.keyPrefix);
  let counts: KeyCounts | undefined;
  if (running) counts = await masterCounts();
  else if (anyNodeData(stack.config)) {
    log('the stack is stopped: starting its Redis nodes and Sentinels alone to see what they hold');
    const topology = await startStackRedis(stack, log);
    try {
      counts = await masterCounts();
    } finally {
      await topology.stop();
    }
  }
  if (counts && counts.persistentKeys > 0) {
    throw new Error(
      `The ${running ? 'running' : 'stopped'} stack in ${stack.config.dir} holds data (${describeCounts(counts)}); a ` +
        "restore replaces all of it. Run again with --force to do so (what it replaces is kept in each node's " +
        `${PRE_RESTORE}/ folder until the next restore). Nothing was changed.`,
    );
  }
}
