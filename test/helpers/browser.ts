import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { findProgram } from '../../stack/helpers/packages.js';
import { repoRoot } from '../../stack/layout.js';

/** Where a test keeps what a person may want to look at afterwards (screenshots): kept, never committed. */
export async function artifactDir(name: string): Promise<string> {
  const dir = path.join(repoRoot, '.tap', 'artifacts', name);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Debian's chromium, headless, closed on teardown. Missing, it fails the test with the line that installs it:
 * a page nobody opened proves nothing, so this never skips.
 */
export async function headlessChromium(t: Test): Promise<Browser> {
  const executablePath = await findProgram('chromium');
  if (!executablePath) {
    throw new Error(
      "Debian's chromium is not installed: apt-get install -y --no-install-recommends chromium " +
        '(npm test installs it as root, through stack/cli.ts test-deps)',
    );
  }
  const browser = await chromium.launch({
    executablePath,
    // Root in a container needs --no-sandbox; the rest keeps a headless run off the network and quiet.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  t.teardown(() => browser.close());
  return browser;
}

/** What a page did while it loaded: console errors, uncaught errors, and every request beyond the page itself. */
export interface PageWatch {
  errors: string[];
  requests: string[];
}

/** Opens a local file in a fresh page and records what it did. */
export async function openFile(browser: Browser, file: string, width: number): Promise<{ page: Page } & PageWatch> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const url = `file://${file}`;
  const watch: PageWatch = { errors: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') watch.errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => watch.errors.push(`page: ${err.message}`));
  page.on('request', (r) => {
    if (r.url() !== url) watch.requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, ...watch };
}
