import { parseArgs } from 'node:util';
import { down } from './commands/down.js';
import { launchStack } from './commands/start.js';
import { printStatus } from './commands/status.js';
import { up } from './commands/up.js';
import { ensureEngine } from './compose/engine.js';
import { imagesCommand } from './compose/images.js';
import { loadStackConfig } from './config.js';
import { installMissing, TEST_PACKAGES } from './helpers/packages.js';
import { runVerb } from './helpers/verbs.js';

/** The local stack's commands (package.json: npm start, npm run up / down / status); the tools are ops/cli.ts's. */
const USAGE = `usage: node --import tsx stack/cli.ts <command>
  start    set up what is missing, run the whole stack in the foreground (Ctrl-C stops it)
  up       the same in the background
  down     stop the stack started by start or up
  status   every node's role, each Sentinel's view, each API instance's readiness
  test-deps  install the Debian packages the tests start (npm test runs this first)
  compose-images  build local stand-ins for compose.yml's official images, offline (-- --force rebuilds)`;

await runVerb(USAGE, {
  start: async (flags) =>
    launchStack(loadStackConfig(), parseArgs({ args: flags, strict: false }).values.background === true),
  up: () => up(loadStackConfig()),
  down: () => down(loadStackConfig()),
  status: async () => ((await printStatus(loadStackConfig(), console.log)) ? 0 : 1),
  'test-deps': () => installMissing(TEST_PACKAGES, console.log),
  'compose-images': async (flags) => {
    // As root, the engine is installed and started when missing (and left running for Compose).
    await ensureEngine(console.log);
    return imagesCommand(flags);
  },
});
