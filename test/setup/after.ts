import { readFile, rm } from 'node:fs/promises';
import { stopEngine } from '../../stack/compose/engine.js';
import { STARTED_ENGINE_FILE } from './engine.js';

// tap's `after` step: stops the dockerd that before.ts started, and only that one.
const pid = Number(await readFile(STARTED_ENGINE_FILE, 'utf8').catch(() => ''));
if (pid > 0) {
  await stopEngine(pid, (msg) => console.log(`# ${msg}`));
  await rm(STARTED_ENGINE_FILE, { force: true });
}
