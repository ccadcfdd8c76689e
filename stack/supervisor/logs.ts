import { readFileSync } from 'node:fs';

/** The last lines of a process's log, indented, for a report of its crash. */
export function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((line) => `  | ${line}`)
      .join('\n');
  } catch {
    return '  (no log)';
  }
}
