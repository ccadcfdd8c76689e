import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DiskControl } from './deployment.js';

const run = promisify(execFile);

/** What fill() writes into a node's filesystem, and free() removes. */
const BALLAST = 'drill-ballast';

/**
 * Each Redis node's folder (dir/redis-<port>/: its AOF, RDB, config and log — Redis renames files between its
 * folder and appendonlydir/, so they share one filesystem) on a tmpfs of its own, `bytes` large, so that a drill
 * can fill one node's disk as a real one fills, without touching the machine's. Mounted before the nodes start (a
 * filesystem mounted under a running Redis would hide the files it has open), unmounted after they stop. Needs
 * root; without it, mount() rejects with mount's own words.
 */
export class SmallDisks implements DiskControl {
  private constructor(private readonly dirs: Map<string, string>) {}

  /** `nodes`: node name (redis-6379) → the node's state folder. */
  static async mount(nodes: Map<string, string>, bytes: number): Promise<SmallDisks> {
    const disks = new SmallDisks(new Map());
    try {
      for (const [node, dir] of nodes) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, `evergreen-${node}`, dir]);
        disks.dirs.set(node, dir);
      }
    } catch (err) {
      await disks.unmount({ keep: false });
      const { stderr, message } = err as { stderr?: string; message: string };
      throw new Error(`cannot mount a small filesystem for the append-only files: ${stderr?.trim() || message}`);
    }
    return disks;
  }

  /** Writes until the filesystem refuses another byte (ENOSPC): large blocks first, then single bytes. */
  async fill(node: string): Promise<number> {
    const handle = await open(path.join(this.dir(node), BALLAST), 'a');
    let bytes = 0;
    try {
      for (const size of [4 << 20, 4096, 1]) {
        const block = Buffer.alloc(size);
        for (;;) {
          try {
            const { bytesWritten } = await handle.write(block);
            bytes += bytesWritten;
            if (bytesWritten < size) break;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      }
    } finally {
      await handle.close();
    }
    return bytes;
  }

  async free(node: string): Promise<void> {
    await rm(path.join(this.dir(node), BALLAST), { force: true });
  }

  /**
   * Every filesystem it mounted (lazily where one is still busy: a node that did not stop). keep: what they hold
   * (logs, data) is copied onto the folder beneath first, so a kept drill stack keeps its nodes' logs.
   */
  async unmount({ keep }: { keep: boolean }): Promise<void> {
    for (const dir of this.dirs.values()) {
      await rm(path.join(dir, BALLAST), { force: true });
      const copy = keep ? await mkdtemp(`${dir}-`) : undefined;
      if (copy) await cp(dir, copy, { recursive: true });
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]).catch(() => undefined));
      if (copy) {
        await cp(copy, dir, { recursive: true });
        await rm(copy, { recursive: true, force: true });
      }
    }
    this.dirs.clear();
  }

  private dir(node: string): string {
    const dir = this.dirs.get(node);
    if (!dir) throw new Error(`no small filesystem for ${node}`);
    return dir;
  }
}
