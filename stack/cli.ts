import { parseArgs } from 'node:util';
import { down } from './commands/down.js';
import { launchStack } from './commands/start.js';
import { printStatus } from './commands/status.js';
import { up } from './commands/up.js';
import { ensureEngine } from './compose/engine.js';
import { imagesCommand } from './compose/images.js';
import { loadStackConfig } from './config.js';
import { installMissing, TEST_PACKAGES } from './helpers/packages.js';

/** The local stack's commands (package.json: npm start, npm run up / down / status); the tools are ops/cli.ts's. */
const USAGE = `usage: node --import tsx stack/cli.ts <command>
  start    set up what is missing, run the whole stack in the foreground (Ctrl-C stops it)
  up       the same in the background
  down     stop the stack started by start or up
  status   every node's role, each Sentinel's view, each API instance's readiness
  test-deps  install the Debian packages the tests start (npm test runs this first)
  compose-images  build local stand-ins for compose.yml's official images, offline (-- --force rebuilds)`;

const [command, ...flags] = process.argv.slice(2);

try {
  const config = loadStackConfig();
  switch (command) {
    case 'start':
      process.exitCode = await launchStack(
        config,
        parseArgs({ args: flags, strict: false }).values.background === true,
      );
      break;
    case 'up':
      process.exitCode = await up(config);
      break;
    case 'down':
      process.exitCode = await down(config);
      break;
    case 'test-deps':
      await installMissing(TEST_PACKAGES, console.log);
      break;
    case 'compose-images':
      // As root, the engine is installed and started when missing (and left running for Compose).
      await ensureEngine(console.log);
      process.exitCode = await imagesCommand(flags);
      break;
    case 'status':
      process.exitCode = (await printStatus(config, console.log)) ? 0 : 1;
      break;
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
}
