import { copyFile, rename, rm, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createStream } from 'rotating-file-stream';

/** How a process's log is kept from growing without end: rotated by size, a bounded number kept. */
export interface LogRotation {
  /** Rotate once the file holds this many bytes. */
  maxBytes: number;
  /** Rotated files kept beside it (name.log.1 is the newest); older ones are deleted. */
  keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 1024 * 1024, keep: 5 };

/** A full or failing disk: how long a log waits before it opens its file again. */
const REOPEN_MS = 1000;
/** Bytes a log holds for a slow disk before it drops the rest: a process is never held by its log. */
const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * A log file that rotates like logrotate (file → file.1 → … → file.<keep>, the oldest deleted). The
 * supervisor owns the writing (children write to a pipe), so no program has to be told to reopen it.
 *
 * It never stops taking what the program writes: a child blocks on a full pipe, so a log whose file cannot be
 * written (a full disk) would freeze the program — Redis, answering nobody. While the file refuses writes (or the
 * disk falls behind by MAX_PENDING_BYTES), lines are dropped and counted; every REOPEN_MS the file is opened again,
 * and the first line that lands says how much was lost. onError hears the first failure of each outage.
 */
export function rotatingLog(file: string, rotation: LogRotation, onError: (err: Error) => void): Writable {
  const name = path.basename(file);
  // In logrotate mode rotating-file-stream passes the rotation's index (none for the live file) first.
  const names = ((index: number | undefined) => (index ? `${name}.${index}` : name)) as unknown as Parameters<
    typeof createStream
  >[0];
  const open = (): Writable => {
    const stream = createStream(names, {
      path: path.dirname(file),
      size: `${Math.max(1, Math.ceil(rotation.maxBytes / 1024))}K`,
      rotate: rotation.keep,
    });
    stream.on('error', (err: Error) => {
      if (target !== stream) return;
      if (dropped === 0) onError(err);
      target = undefined;
      reopenAt = Date.now() + REOPEN_MS;
      dropped += stream.writableLength;
      stream.destroy();
    });
    return stream;
  };
  let target: Writable | undefined;
  let dropped = 0;
  let reopenAt = 0;
  target = open();
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!target && Date.now() >= reopenAt) {
        target = open();
        if (dropped > 0) target.write(`[supervisor] ${dropped} bytes of this log were lost: its file refused them\n`);
        dropped = 0;
      }
      if (!target || target.writableLength > MAX_PENDING_BYTES) dropped += chunk.length;
      else target.write(chunk);
      done();
    },
    final(done) {
      if (!target) return done();
      target.end(() => done());
    },
  });
}

/**
 * For a log a program writes itself (NGINX's access log): once it holds rotation.maxBytes, shifts the rotated
 * ones (file.1 to file.2, …, the oldest deleted), copies it to file.1 and truncates it, as logrotate's
 * copytruncate does. The program writes on with O_APPEND, at the new end. Renaming and asking NGINX to reopen
 * (SIGUSR1) is not an option: its workers reopen the file themselves, as `nobody` when the master is root, and
 * cannot enter a state folder only its owner may read. A line written between the copy and the truncation is
 * lost: a window of microseconds, once per rotation.
 */
export async function rotateIfFull(file: string, rotation: LogRotation): Promise<boolean> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size < rotation.maxBytes) return false;
  await rm(`${file}.${rotation.keep}`, { force: true });
  for (let i = rotation.keep - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => {});
  await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}
