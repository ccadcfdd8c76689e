import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { baseHash, ensureBaseImage } from './base-image.js';
import { assertDockerReachable, DOCKER, inspectImage, removeReplaced, runStreaming } from './docker-cli.js';
import { folderHash } from './folder-hash.js';
import {
  BASE_IMAGE,
  HASH_LABEL,
  IMAGES_DIR,
  NO_STAND_IN,
  STAND_IN_LABEL,
  STAND_INS,
  SWARM_IMAGES,
  type ImageSpec,
} from './stand-ins.js';

export type ImageOutcome = 'built' | 'cached' | 'skipped' | 'none';
export interface ImageReport {
  image: string;
  outcome: ImageOutcome;
  seconds: number;
  note?: string;
}

/**
 * `npm run compose:images`: the base image, then every stand-in for the official images compose.yml uses,
 * built from docker/images/ with Debian's packages, tagged as compose.yml's defaults. An image already built
 * from the same files is kept; an image under one of those names that is not a stand-in is never replaced.
 */
export async function buildStandInImages(
  log: (msg: string) => void,
  options: { force?: boolean } = {},
): Promise<ImageReport[]> {
  return buildOnBase(STAND_INS, log, options.force === true, NO_STAND_IN);
}

/**
 * The Swarm deployment's images, as buildStandInImages builds the stand-ins (base first, cached by content, the
 * same progress lines and summary): the registry:2 stand-in and our evergreen/swarm-node:bookworm. Not part of
 * `npm run compose:images`: Compose needs neither (nor Debian's docker.io in an image).
 */
export async function buildSwarmImages(
  log: (msg: string) => void,
  options: { force?: boolean } = {},
): Promise<ImageReport[]> {
  return buildOnBase(SWARM_IMAGES, log, options.force === true);
}

/** The base image, then each image FROM it; images with no stand-in are listed, with why; then the summary. */
async function buildOnBase(
  images: readonly ImageSpec[],
  log: (msg: string) => void,
  force: boolean,
  notBuilt: readonly { tag: string; why: string }[] = [],
): Promise<ImageReport[]> {
  log(`docker: engine ${await assertDockerReachable()} (${DOCKER})`);
  const reports: ImageReport[] = [];
  const timed = async (image: string, step: () => Promise<Omit<ImageReport, 'image' | 'seconds'>>) => {
    const started = performance.now();
    const report = { image, ...(await step()), seconds: (performance.now() - started) / 1000 };
    log(`${image}: ${report.outcome}${report.note ? ` (${report.note})` : ''}`);
    reports.push(report);
  };

  log(`${BASE_IMAGE}: checking`);
  let replacedBase: string | undefined;
  await timed(BASE_IMAGE, async () => {
    const { outcome, replaced } = await ensureBaseImage(log, force);
    replacedBase = replaced;
    return { outcome };
  });
  const parentHash = await baseHash();
  for (const image of images) {
    log(`${image.tag}: checking`);
    await timed(image.tag, () => ensureStandIn(image, parentHash, force, log));
  }
  // Only now is the old base free of the images that were built on it (unless other images still are).
  if (replacedBase) await removeReplaced(replacedBase, BASE_IMAGE);
  for (const { tag, why } of notBuilt) {
    reports.push({ image: tag, outcome: 'none', seconds: 0, note: `${why}: docker pull it` });
    log(`${tag}: no stand-in (${why}); Compose needs the official image from a registry`);
  }
  for (const line of summaryTable(reports)) log(line);
  return reports;
}

/** Builds one image FROM the base unless it is cached or its name is taken by an image that is not ours. */
async function ensureStandIn(
  image: ImageSpec,
  parentHash: string,
  force: boolean,
  log: (msg: string) => void,
): Promise<Omit<ImageReport, 'image' | 'seconds'>> {
  const folder = path.join(IMAGES_DIR, image.folder);
  const buildArgs = image.buildArgs ?? {};
  const label = image.label ?? STAND_IN_LABEL;
  const hash = await standInHash(image, parentHash);
  const existing = await inspectImage(image.tag);
  const decision = decide(existing?.labels, hash, force, label);
  if (decision === 'skipped')
    return { outcome: 'skipped', note: `an image without ${label} has this name, likely the official one` };
  if (decision === 'cached') return { outcome: 'cached' };

  const context = await mkdtemp(path.join(tmpdir(), `evergreen-image-${image.folder}-`));
  try {
    await cp(folder, context, { recursive: true });
    await image.prepare?.(context, buildArgs, log);
    const args = ['build', '--force-rm', '-t', image.tag];
    args.push('--label', `${label}=${image.tag}`, '--label', `${HASH_LABEL}=${hash}`);
    for (const [name, value] of Object.entries(buildArgs)) args.push('--build-arg', `${name}=${value}`);
    // The classic builder: it uses local images for FROM without asking a registry, and prints each step.
    await runStreaming(DOCKER, [...args, context], (line) => showStep(line, log), { DOCKER_BUILDKIT: '0' });
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  if (existing) await removeReplaced(existing.id, image.tag);
  return { outcome: 'built' };
}

/** An image's content hash: its folder, its build arguments and the base image's own hash. */
export async function standInHash(image: ImageSpec, parentHash?: string): Promise<string> {
  const args = Object.entries(image.buildArgs ?? {}).map(([name, value]) => `${name}=${value}`);
  return folderHash(path.join(IMAGES_DIR, image.folder), [parentHash ?? (await baseHash()), ...args]);
}

/**
 * What to do with an image's name: an image there without our label (STAND_IN_LABEL, or OWN_LABEL for an image of
 * our own; an official image pulled by the user) is never replaced; one built from the same files is kept unless
 * forced; anything else is built.
 */
export function decide(
  labels: Record<string, string> | undefined,
  hash: string,
  force: boolean,
  label: string = STAND_IN_LABEL,
): 'build' | 'cached' | 'skipped' {
  if (labels && !labels[label]) return 'skipped';
  return !force && labels?.[HASH_LABEL] === hash ? 'cached' : 'build';
}

/** One line per Dockerfile step, cut to the width of a terminal; apt-get's own output stays quiet. */
function showStep(line: string, log: (msg: string) => void): void {
  if (/^Step \d+\/\d+ : /.test(line)) log(`  ${line.length > 110 ? `${line.slice(0, 109)}…` : line}`);
}

export function summaryTable(reports: readonly ImageReport[]): string[] {
  const width = Math.max(...reports.map((r) => r.image.length));
  const rows = reports.map((r) => {
    const seconds = r.outcome === 'none' ? '-' : r.seconds.toFixed(1);
    return `${r.image.padEnd(width)}  ${r.outcome.padEnd(7)}  ${seconds.padStart(7)}${r.note ? `  ${r.note}` : ''}`;
  });
  return [`${'image'.padEnd(width)}  ${'result'.padEnd(7)}  ${'seconds'.padStart(7)}`, ...rows];
}

/** The CLI verb: `compose-images [--force]`; exit code 0 when every image is there. */
export async function imagesCommand(flags: string[], log: (msg: string) => void = console.log): Promise<number> {
  const { values } = parseArgs({ args: flags, options: { force: { type: 'boolean' }, help: { type: 'boolean' } } });
  if (values.help) {
    log('usage: npm run compose:images [-- --force]   stand-ins for the official images compose.yml uses');
    return 0;
  }
  await buildStandInImages(log, { force: values.force === true });
  return 0;
}

// Runnable on its own: node --import tsx stack/compose/images.ts [--force]
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = await imagesCommand(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
