import t from 'tap';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS, parsePauses } from '../ops/drill/options.js';
import { renderMarkdown } from '../ops/drill/report.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

// Six cycles of a loaded stack with a heal after each: longer than tap's default per file.
t.setTimeout(420_000);

t.test('master paused from just under down-after (1 s) to 2 s past it: every invariant holds', async (t) => {
  const config = await testStackConfig(t);
  config.apiEnv.LOG_LEVEL = 'warn'; // thousands of requests: only what goes wrong belongs in the instances' logs
  const stack = await startTestStack(t, config);
  // 0.5 s ends before the Sentinels notice; 1.5-2 s ends mid-failover; 3 s ends after the switch.
  const pauseSeconds = parsePauses('0.5:3:0.5');
  const options = { ...DEFAULT_OPTIONS, fault: 'pause-master' as const, pauseSeconds };
  const report = await runDrill(options, stack, (line) => t.comment(line));
  t.comment(renderMarkdown(report));
  t.equal(report.cycles.length, 6, 'one cycle per pause');
  for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
  t.equal(report.totals.failedReads, 0, 'no catalog read failed');
});
