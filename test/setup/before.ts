import { writeFile } from 'node:fs/promises';
import { ensureEngine } from '../../stack/compose/engine.js';
import { buildStandInImages } from '../../stack/compose/images.js';
import { STARTED_ENGINE_FILE } from './engine.js';

// tap's `before` step, for the Compose tests: a Docker engine (as root, installed and started when missing;
// after.ts stops it again) and the stand-in images, built once here rather than by test files side by side.
// Without root and without an engine, those tests say they are skipped, and why.
const log = (msg: string) => console.log(`# ${msg}`);
let engine: Awaited<ReturnType<typeof ensureEngine>> | undefined;
try {
  engine = await ensureEngine(log);
} catch (err) {
  if (process.getuid?.() === 0) throw err;
  log(`no Docker engine: the Compose tests will be skipped (${(err as Error).message})`);
}
if (engine) {
  if (engine.startedPid !== undefined) await writeFile(STARTED_ENGINE_FILE, String(engine.startedPid));
  await buildStandInImages(log);
}
