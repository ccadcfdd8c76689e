import { backupCommand, restoreCommand } from './backup/command.js';
import { benchCommand } from './bench/command.js';
import { loadStackConfig } from '../stack/config.js';
import { runVerb } from '../stack/helpers/verbs.js';
import { drillCommand } from './drill/command.js';

/** The operators' tools (package.json: npm run drill / bench / backup / restore), apart from the local runtime. */
const USAGE = `usage: node --import tsx ops/cli.ts <command>
  drill    a failover drill on a stack of its own (npm run drill -- --help)
  bench    benchmarks through NGINX with their ceilings (npm run bench -- --help)
  backup   a snapshot of the local stack's data as one archive (npm run backup -- --help)
  restore  the local stack's data replaced by an archive's, on every node (npm run restore -- --help)`;

await runVerb(USAGE, {
  drill: drillCommand,
  bench: benchCommand,
  backup: (flags) => backupCommand(loadStackConfig(), flags),
  restore: (flags) => restoreCommand(loadStackConfig(), flags),
});
