import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { createStream } from 'rotating-file-stream';

/** How a process's log is kept from growing without end: rotated by size, a bounded number kept. */
export interface LogRotation {
  /** Rotate once the file holds this many bytes. */
  maxBytes: number;
  /** Rotated files kept beside it (name.log.1 is the newest); older ones are deleted. */
  keep: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 10 * 1024 * 1024, keep: 5 };

/**
 * A log file that rotates like logrotate (file → file.1 → … → file.<keep>, the oldest deleted). The
 * supervisor owns the writing (children write to a pipe), so no program has to be told to reopen it.
 */
export function rotatingLog(file: string, rotation: LogRotation, onError: (err: Error) => void): Writable {
  const name = path.basename(file);
  // In logrotate mode rotating-file-stream passes the rotation's index (none for the live file) first.
  const names = ((index: number | undefined) => (index ? `${name}.${index}` : name)) as unknown as Parameters<
    typeof createStream
  >[0];
  const stream = createStream(names, {
    path: path.dirname(file),
    size: `${Math.max(1, Math.ceil(rotation.maxBytes / 1024))}K`,
    rotate: rotation.keep,
  });
  stream.on('error', onError);
  return stream;
}

/**
 * For a log a program writes itself (NGINX's access log): once it holds rotation.maxBytes, shifts it to
 * file.1 (file.1 to file.2, …, the oldest deleted) and says so, so that the caller asks the program to
 * reopen it. Two renames in a row are safe: the program keeps writing to the renamed file until it reopens.
 */
export async function rotateIfFull(file: string, rotation: LogRotation): Promise<boolean> {
  const size = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size < rotation.maxBytes) return false;
  await rm(`${file}.${rotation.keep}`, { force: true });
  for (let i = rotation.keep - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => {});
  await rename(file, `${file}.1`);
  return true;
}
