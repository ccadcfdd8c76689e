import os from 'node:os';
import path from 'node:path';

/** Where the tests' before step notes a dockerd it started, for the after step to stop. */
export const STARTED_ENGINE_FILE = path.join(os.tmpdir(), 'evergreen-tests-started-dockerd.pid');
