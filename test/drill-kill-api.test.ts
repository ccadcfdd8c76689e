import t from 'tap';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS } from '../ops/drill/options.js';
import { renderMarkdown } from '../ops/drill/report.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

t.test('an API instance killed (SIGKILL) under load and started again: every invariant holds', async (t) => {
  const config = await testStackConfig(t);
  config.apiEnv.LOG_LEVEL = 'warn'; // thousands of requests: only what goes wrong belongs in the instances' logs
  const stack = await startTestStack(t, config);
  const report = await runDrill({ ...DEFAULT_OPTIONS, fault: 'kill-api' }, stack, (line) => t.comment(line));
  t.comment(renderMarkdown(report));
  for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
  t.equal(report.totals.failedReads, 0, 'no catalog read failed');
});
