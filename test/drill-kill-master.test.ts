import t from 'tap';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS } from '../ops/drill/options.js';
import { renderMarkdown } from '../ops/drill/report.js';
import { drillPage } from '../ops/pictures/drill-page.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

t.setTimeout(300_000);

t.test('the master killed (SIGKILL) three times in a row, back from its own data: every invariant holds', async (t) => {
  const config = await testStackConfig(t);
  config.apiEnv.LOG_LEVEL = 'warn'; // thousands of requests: only what goes wrong belongs in the instances' logs
  const stack = await startTestStack(t, config);
  const options = { ...DEFAULT_OPTIONS, fault: 'kill-master' as const, cycles: 3 };
  const report = await runDrill(options, stack, (line) => t.comment(line));
  t.comment(renderMarkdown(report));
  t.ok(
    report.cycles.every((c) => c.newMasterPort !== undefined),
    'each kill ended in a switch to another node',
  );
  for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
  t.equal(report.totals.failedReads, 0, 'no catalog read failed');

  // --html: the same report as a page, a timeline per cycle (test/report-pages opens one in a browser).
  const sections = (await drillPage(report)).split('<section class="cycle"').slice(1);
  t.equal(sections.length, 3, 'the page has a section per cycle');
  for (const [i, section] of sections.entries()) {
    t.equal(section.match(/<svg /g)?.length, 1, `cycle ${i + 1}: its chart`);
    // Tested, not matched: a failed match would print the whole page.
    t.ok(/moments_marks"[^>]*><line /.test(section), `cycle ${i + 1}: the Sentinels' events marked`);
  }
  t.ok(
    report.cycles.every((c) => c.fence?.some((f) => f.fenced)),
    "each kill raised an instance's failover fence, as its /metrics showed",
    { fence: report.cycles.map((c) => c.fence) },
  );
});
