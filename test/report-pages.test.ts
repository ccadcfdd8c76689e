import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import t from 'tap';
import { benchPage } from '../ops/pictures/bench-page.js';
import { cycleMoments, drillPage } from '../ops/pictures/drill-page.js';
import { artifactDir, headlessChromium, openFile } from './helpers/browser.js';
import { BENCH_FIXTURE_MARKS, benchFixture, DRILL_FIXTURE_MARKS, drillFixture } from './helpers/report-fixtures.js';

// `npm run drill -- --html` and `npm run bench -- --html`: pages built from reports whose every mark is known,
// opened in Debian's chromium. The screenshots stay in .tap/artifacts/report-pages/ for a person to look at.

const WIDTH = 1100;

/** Marks of the Vega layer `name` drawn in the element: paths for lines, areas and bars, lines for rules. */
const marks = (page: Page, scope: string, name: string, element: 'path' | 'line') =>
  page.locator(`${scope} g.role-mark.${name}_marks ${element}`).count();

t.test('a page needs nothing but itself: no script, no stylesheet or image to fetch', async (t) => {
  for (const [what, html] of [
    ['drill', await drillPage(drillFixture())],
    ['bench', await benchPage(benchFixture())],
  ] as const) {
    t.notMatch(html, /<script|<link|<img|<iframe|\ssrc=|@import|url\(/i, `${what}: nothing to load`);
    t.match(html, /Content-Security-Policy" content="default-src 'none'/, `${what}: and a policy that forbids it`);
  }
});

t.test('the Sentinels announce an event three times: the timeline marks it once, fence changes each', async (t) => {
  const [first, second] = drillFixture().cycles;
  t.same(
    cycleMoments(first!).map((m) => m.what),
    ['+sdown', '+odown', '+switch-master', 'fence up', 'fence up', 'fence down', 'fence down'],
  );
  t.same(
    cycleMoments(second!).map((m) => m.what),
    ['+sdown', '+odown', '+switch-master'],
    "a replica's +sdown is not the master's",
  );
});

t.test('the drill page in a browser: a timeline per cycle with its marks, the invariants pass and fail', async (t) => {
  const browser = await headlessChromium(t);
  const dir = await artifactDir('report-pages');
  const file = path.join(dir, 'drill.html');
  await writeFile(file, await drillPage(drillFixture()));
  const { page, errors, requests } = await openFile(browser, file, WIDTH);
  t.same(errors, [], 'no console or page error');
  t.same(requests, [], 'no request beyond the page');

  const expected = DRILL_FIXTURE_MARKS;
  t.equal(await page.locator('section.cycle').count(), expected.cycles, 'a section per cycle');
  for (let i = 0; i < expected.cycles; i++) {
    const scope = `section#cycle-${i + 1}`;
    t.equal(await page.locator(`${scope} svg`).count(), 1, `cycle ${i + 1}: one chart`);
    const box = await page.locator(`${scope} svg`).boundingBox();
    t.ok(box && box.width > 800 && box.height > 300, `cycle ${i + 1}: laid out at its size (${JSON.stringify(box)})`);
    t.equal(await marks(page, scope, 'load', 'path'), expected.lines, `cycle ${i + 1}: the load's lines`);
    t.equal(await marks(page, scope, 'outage', 'path'), 1, `cycle ${i + 1}: the write outage shaded`);
    t.equal(await marks(page, scope, 'moments', 'line'), expected.moments[i], `cycle ${i + 1}: the marked moments`);
    t.equal(await marks(page, scope, 'answers', 'path'), expected.answerBars[i], `cycle ${i + 1}: the answers' bars`);
  }
  const legend = await page.locator('section#cycle-1 svg').textContent();
  for (const name of ['acknowledged purchases/s', '+switch-master', 'fence up', '503 NOT_DURABLE']) {
    t.match(legend, name, `the legend names ${name}`);
  }

  t.equal(await page.locator('table tr.pass').count(), expected.invariants.pass, 'the invariants that held');
  t.equal(await page.locator('table tr.fail').count(), expected.invariants.fail, 'the one that failed');
  t.equal(await page.locator('table tr.fail td.verdict').textContent(), 'FAIL');
  t.equal(await page.locator('h1 .badge').textContent(), 'FAIL', 'the verdict at the top');
  t.match(await page.locator('body').textContent(), 'a note with <markup> that must show as text', 'text escaped');

  const screenshot = path.join(dir, 'drill.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  t.comment(`screenshot: ${screenshot}`);
});

t.test('the bench page in a browser: req/s beside the ceilings, p50 and p99', async (t) => {
  const browser = await headlessChromium(t);
  const dir = await artifactDir('report-pages');
  const file = path.join(dir, 'bench.html');
  await writeFile(file, await benchPage(benchFixture()));
  const { page, errors, requests } = await openFile(browser, file, WIDTH);
  t.same(errors, [], 'no console or page error');
  t.same(requests, [], 'no request beyond the page');
  t.equal(await page.locator('svg').count(), 2, 'two charts');
  t.equal(await marks(page, 'body', 'throughput', 'path'), BENCH_FIXTURE_MARKS.throughputBars, 'req/s bars');
  t.equal(await marks(page, 'body', 'latency', 'path'), BENCH_FIXTURE_MARKS.latencyBars, 'p50 and p99 bars');
  t.equal(await page.locator('table tbody tr').count(), benchFixture().results.length, 'a row per scenario');
  const screenshot = path.join(dir, 'bench.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  t.comment(`screenshot: ${screenshot}`);
});
