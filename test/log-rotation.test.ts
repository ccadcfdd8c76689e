import t from 'tap';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { rotateIfFull } from '../stack/supervisor/log-file.js';
import { Supervised, type ProcessSpec } from '../stack/supervisor/supervised.js';
import { waitFor } from './helpers/fixtures.js';
import { call, fakeUpstream, startTestNginx } from './helpers/stack.js';

const ROTATION = { maxBytes: 4096, keep: 2 };

// A child that writes `lines` lines of ~100 bytes in bursts (as a busy API instance does), then exits.
const CHATTY = `
const line = 'x'.repeat(95);
let i = 0;
const burst = () => {
  for (let n = 0; n < 10 && i < Number(process.argv[1]); n++, i++) console.log(String(i).padStart(4, '0') + line);
  if (i < Number(process.argv[1])) setTimeout(burst, 5);
};
burst();
`;

function chatty(dir: string, args: string[], more: Partial<ProcessSpec> = {}): Supervised {
  return new Supervised(
    {
      name: 'chatty',
      command: process.execPath,
      args: ['-e', ...args],
      log: path.join(dir, 'chatty.log'),
      rotation: ROTATION,
      cwd: dir,
      detached: false,
      ready: async () => undefined,
      readyTimeoutMs: 1000,
      ...more,
    },
    () => {},
  );
}

t.test("a supervised process's log rotates by size and keeps a bounded number of files", async (t) => {
  const dir = t.testdir();
  const child = chatty(dir, [CHATTY, '400']); // ~40 KB: ten times the size limit
  child.start();
  await child.whenExited();
  await child.stop();
  const files = (await readdir(dir)).sort();
  t.same(files, ['chatty.log', 'chatty.log.1', 'chatty.log.2'], 'the live file and `keep` rotated ones, no more');
  for (const file of files) {
    const { size } = await stat(path.join(dir, file));
    // A rotation happens between writes: a file may pass the limit by one burst of the child's output.
    t.ok(size <= ROTATION.maxBytes + 2048, `${file} stays near the limit (${size} bytes)`);
  }
  // Oldest first, the kept files hold the last lines written, each once, none missing.
  const kept = await Promise.all(
    ['.2', '.1', ''].map((suffix) => readFile(path.join(dir, `chatty.log${suffix}`), 'utf8')),
  );
  const numbers = kept
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((line) => Number(line.slice(0, 4)));
  t.equal(numbers.at(-1), 399, 'the last line written is kept');
  t.ok(
    numbers.length > 0 && numbers.length < 400,
    `older lines were dropped with the oldest files (${numbers.length} kept)`,
  );
  t.ok(
    numbers.every((n, i) => i === 0 || n === (numbers[i - 1] ?? 0) + 1),
    'no line lost or repeated across the rotations',
  );
});

// Writes 4000 lines (~400 KB) at once, says so in a file elsewhere, waits for the ballast to go, then writes again.
const THROUGH_A_FULL_DISK = `
const fs = require('node:fs');
const [, marker, ballast] = process.argv;
for (let i = 0; i < 4000; i++) console.log(String(i).padStart(4, '0') + 'x'.repeat(95));
fs.writeFileSync(marker, 'wrote');
const wait = setInterval(() => {
  if (fs.existsSync(ballast)) return;
  clearInterval(wait);
  setTimeout(() => console.log('written once there is room'), 1200);
}, 50);
`;

t.test('a full disk never holds the process up: its lines are dropped, counted, and the log goes on', async (t) => {
  // A real small filesystem (tmpfs: root, as CI is), filled to the last byte. Before, the supervisor stopped
  // reading the child's pipe at the first failed write: Redis then blocked on its next log line, answering nobody.
  const dir = t.testdir();
  const disk = await mkdtemp(path.join(os.tmpdir(), 'evergreen-full-disk-'));
  const run = promisify(execFile);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'evergreen-test-log', disk]);
  t.teardown(async () => {
    await run('umount', ['-l', disk]);
    await rm(disk, { recursive: true, force: true });
  });
  const ballast = path.join(disk, 'ballast');
  const marker = path.join(dir, 'marker');
  await writeFile(ballast, Buffer.alloc(1024 * 1024)).catch(() => undefined);
  const child = chatty(disk, [THROUGH_A_FULL_DISK, marker, ballast], {
    rotation: { maxBytes: 10 * 1024 * 1024, keep: 1 },
  });
  t.teardown(() => child.stop());
  child.start();
  await waitFor('the child to write everything', 20_000, () => readFile(marker));
  t.pass('the child wrote all its lines while its log could not be written');
  await rm(ballast);
  await child.whenExited();
  await child.stop();
  const log = await readFile(path.join(disk, 'chatty.log'), 'utf8');
  t.match(log, /\[supervisor\] \d+ bytes of this log were lost: its file refused them/, 'the loss is said');
  t.match(log, /written once there is room/, 'and the log goes on');
});

t.test('a log the program writes itself is shifted once full, the oldest dropped', async (t) => {
  const dir = t.testdir();
  const file = path.join(dir, 'access.log');
  await writeFile(file, 'small\n');
  t.notOk(await rotateIfFull(file, ROTATION), 'under the limit: left alone');
  for (const generation of ['first', 'second', 'third']) {
    await writeFile(file, `${generation}\n`.padEnd(ROTATION.maxBytes, '.'));
    t.ok(await rotateIfFull(file, ROTATION), `${generation}: rotated`);
  }
  t.equal((await stat(file)).size, 0, 'the live file is emptied: the program appends on to it');
  t.match(await readFile(`${file}.1`, 'utf8'), /^third/, '.1 is the newest');
  t.match(await readFile(`${file}.2`, 'utf8'), /^second/);
  t.notOk(existsSync(`${file}.3`), 'the oldest beyond `keep` is deleted');
});

t.test("NGINX's access log is rotated while NGINX writes on: the requests before and after are logged", async (t) => {
  const upstream = await fakeUpstream(t);
  const { base, files } = await startTestNginx(t, [upstream.address, upstream.address], ROTATION);
  const request = (i: number) => call(base, 'GET', '/api/v1/products', { headers: { 'x-request-id': `rot-${i}` } });
  for (let i = 0; i < 40; i++) await request(i); // each line is ~300 bytes: about three times the limit
  // The supervisor measures the file every few seconds, copies it to .1 and empties it; NGINX appends on.
  await waitFor('a rotation', 15_000, async () => {
    if (!existsSync(`${files.accessLog}.1`)) throw new Error('not rotated yet');
  });
  await waitFor('NGINX writing to the emptied file', 5000, async () => {
    await request(1000);
    if (!(await readFile(files.accessLog, 'utf8').catch(() => '')).includes('rot-1000')) throw new Error('not yet');
  });
  const all = await Promise.all(
    ['', '.1', '.2'].map((suffix) => readFile(`${files.accessLog}${suffix}`, 'utf8').catch(() => '')),
  );
  const logged = all.join('\n');
  t.ok(logged.includes('"request_id":"rot-39"'), 'the last request before the rotation is in a kept file');
  t.ok(logged.includes('"request_id":"rot-1000"'), 'requests after it land in the new file');
});

t.test('a process that logs on its hot path writes its log itself, and it still rotates', async (t) => {
  const dir = t.testdir();
  // It stays up once it has written, as a server does: logs are rotated while their process runs.
  const keepUp = `${CHATTY}; setInterval(() => {}, 1000);`;
  const child = chatty(dir, [keepUp, '4000'], { log: path.join(dir, 'direct.log'), logDirectly: true });
  child.start(); // ~400 KB in ~2 s: the rotation check (every few seconds) finds it full at least once
  t.teardown(() => child.stop());
  await waitFor('a rotation', 15_000, async () => {
    if (!existsSync(path.join(dir, 'direct.log.1'))) throw new Error('not rotated yet');
  });
  await child.stop();
  const files = (await readdir(dir)).sort();
  t.ok(files.length <= 1 + ROTATION.keep, `at most ${ROTATION.keep} rotated files (${files.join(', ')})`);
  t.match(await readFile(path.join(dir, 'direct.log.1'), 'utf8'), /^\d{4}x/, 'the rotated file holds its lines');
});
