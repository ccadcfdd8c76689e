import t from 'tap';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS } from '../ops/drill/options.js';
import { renderMarkdown } from '../ops/drill/report.js';
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
});
