import { backupCommand, restoreCommand } from './backup/command.js';
import { benchCommand } from './bench/command.js';
import { loadStackConfig } from '../stack/config.js';
import { drillCommand } from './drill/command.js';

/** The operators' tools (package.json: npm run drill / bench / backup / restore), apart from the local runtime. */
const USAGE = `usage: node --import tsx ops/cli.ts <command>
  drill    a failover drill on a stack of its own (npm run drill -- --help)
  bench    benchmarks through NGINX with their ceilings (npm run bench -- --help)
  backup   a snapshot of the local stack's data as one archive (npm run backup -- --help)
  restore  the local stack's data replaced by an archive's, on every node (npm run restore -- --help)`;

const [command, ...flags] = process.argv.slice(2);

try {
  switch (command) {
    case 'drill':
      process.exitCode = await drillCommand(flags);
      break;
    case 'bench':
      process.exitCode = await benchCommand(flags);
      break;
    case 'backup':
      process.exitCode = await backupCommand(loadStackConfig(), flags);
      break;
    case 'restore':
      process.exitCode = await restoreCommand(loadStackConfig(), flags);
      break;
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
