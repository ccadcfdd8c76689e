/** One verb of a command line: runs with the flags after it and resolves with the exit code (0 when nothing). */
export type Verb = (flags: string[]) => Promise<number | void>;

/**
 * Runs the verb named by the first argument (the usage and exit 2 for an unknown one); an error is printed as
 * its message alone and exits 1. For stack/cli.ts and ops/cli.ts alike.
 */
export async function runVerb(usage: string, verbs: Record<string, Verb>, argv = process.argv.slice(2)) {
  const [name, ...flags] = argv;
  const verb = name === undefined ? undefined : verbs[name];
  if (!verb) {
    console.error(usage);
    process.exitCode = 2;
    return;
  }
  try {
    process.exitCode = (await verb(flags)) ?? 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
