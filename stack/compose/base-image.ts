import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { findProgram } from '../helpers/packages.js';
import { DOCKER, inspectImage } from './docker-cli.js';
import { folderHash } from './folder-hash.js';
import { BASE_IMAGE, BASE_LABEL, HASH_LABEL, IMAGES_DIR } from './stand-ins.js';

const SUITE = 'bookworm';
const MIRROR = 'http://deb.debian.org/debian';
/** Files laid over the debootstrap tree: apt sources with security updates, no daemons started, slim dpkg. */
const OVERLAY = path.join(IMAGES_DIR, 'base', 'rootfs');

/** The base image's content hash: the debootstrap call and the overlay. */
export function baseHash(): Promise<string> {
  return folderHash(OVERLAY, [`debootstrap --variant=minbase ${SUITE} ${MIRROR}`]);
}

/**
 * Makes BASE_IMAGE from debootstrap (minbase) unless an image with the same hash exists: no registry needed,
 * only Debian's mirror. Needs root (debootstrap makes device nodes and chroots). Returns the id of the image it
 * replaced, to remove once the stand-ins built on it are replaced too.
 */
export async function ensureBaseImage(
  log: (msg: string) => void,
  force = false,
): Promise<{ outcome: 'built' | 'cached'; replaced?: string }> {
  const hash = await baseHash();
  const existing = await inspectImage(BASE_IMAGE);
  if (!force && existing?.labels[HASH_LABEL] === hash) return { outcome: 'cached' };
  const debootstrap = await findProgram('debootstrap');
  if (!debootstrap) throw new Error('debootstrap not found: apt-get install -y debootstrap');
  if (process.getuid?.() !== 0) throw new Error(`making ${BASE_IMAGE} with debootstrap needs root`);

  // Under /var/tmp: on disk, not a tmpfs /tmp that may be small or mounted nodev.
  const root = await mkdtemp('/var/tmp/evergreen-debootstrap-');
  try {
    log(`  debootstrap --variant=minbase ${SUITE} into ${root} (about 40 s)`);
    await runDebootstrap(debootstrap, root, log);
    await cp(OVERLAY, root, { recursive: true });
    await slim(root);
    log(`  docker import → ${BASE_IMAGE}`);
    const changes = [
      `LABEL ${BASE_LABEL}=debian:${SUITE}-slim ${HASH_LABEL}=${hash}`,
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'CMD ["bash"]',
    ].flatMap((change) => ['--change', change]);
    // Not buffered: the tree is larger than execa's buffer limit.
    await execa('tar', ['--numeric-owner', '-C', root, '-c', '.'], { buffer: false }).pipe(DOCKER, [
      'import',
      ...changes,
      '-',
      BASE_IMAGE,
    ]);
  } finally {
    await removeTree(root, log);
  }
  return { outcome: 'built', replaced: existing?.id };
}

/** debootstrap, showing the first line of each phase (retrieving, extracting, configuring…), not each package. */
async function runDebootstrap(debootstrap: string, root: string, log: (msg: string) => void): Promise<void> {
  const child = execa(debootstrap, ['--variant=minbase', SUITE, root, MIRROR], {
    all: true,
    buffer: false,
    reject: false,
  });
  const tail: string[] = [];
  const phases = new Set<string>();
  for await (const line of child.iterable({ from: 'all' })) {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    const verb = /^I: (\w+)/.exec(line)?.[1];
    if (verb && !phases.has(verb)) log(`  debootstrap: ${line.slice(3)}`);
    if (verb) phases.add(verb);
  }
  const { exitCode } = await child;
  if (exitCode !== 0) throw new Error(`debootstrap failed (${exitCode}):\n${tail.join('\n')}`);
}

/** What the official slim images leave out: docs but copyrights, manuals, translations, apt's lists. */
async function slim(root: string): Promise<void> {
  const script = `cd "$1"
    find usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
    find usr/share/doc -mindepth 1 -type d -empty -delete
    rm -rf usr/share/man/* usr/share/info/* usr/share/groff/* usr/share/lintian/* var/lib/apt/lists/*
    find usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    # The host's resolver and name: Docker provides a container's own.
    rm -f etc/resolv.conf etc/hostname`;
  await execa('sh', ['-c', script, 'slim', root]);
}

/** Removes the debootstrap tree once nothing is mounted in it (a failed debootstrap can leave /proc mounted). */
async function removeTree(root: string, log: (msg: string) => void): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((point) => point.startsWith(`${root}/`))
    .sort()
    .reverse();
  for (const point of mounts) await execa('umount', ['-l', point], { reject: false });
  const left = (await readFile('/proc/self/mounts', 'utf8')).includes(`${root}/`);
  if (left) log(`  left ${root} in place: something is still mounted in it`);
  else await rm(root, { recursive: true, force: true });
}
