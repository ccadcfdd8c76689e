import t from 'tap';
import { LocalDeployment } from '../ops/deployment/local.js';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS, type FaultName } from '../ops/drill/options.js';
import { renderMarkdown, type DrillReport } from '../ops/drill/report.js';
import { installedProgram } from './helpers/fixtures.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

// A failover one replica short, then the whole stack stopped and started again: two stack start-ups.
t.setTimeout(240_000);

t.test('a failover one replica short, then the whole stack restarted under load: every invariant holds', async (t) => {
  const config = await testStackConfig(t);
  config.apiEnv.LOG_LEVEL = 'warn'; // thousands of requests: only what goes wrong belongs in the instances' logs
  const stack = await startTestStack(t, config);
  const nginx = await installedProgram('nginx');
  const target = new LocalDeployment(stack, { nginx, log: (msg) => t.comment(msg) });
  const fault: FaultName[] = ['replica-down-during-failover', 'restart-stack'];
  let report: DrillReport;
  try {
    report = await runDrill({ ...DEFAULT_OPTIONS, fault }, target, (line) => t.comment(line));
  } finally {
    // The helper stops the stack it started; the one restart-stack started is ours to stop.
    await target.stop();
  }
  t.comment(renderMarkdown(report));
  const [failover, restart] = report.cycles;
  t.ok(failover?.newMasterPort !== undefined, 'the Sentinels promoted the last replica', { notes: failover?.notes });
  t.ok(failover?.recovery?.readyMs !== undefined, 'the old master and the stopped replica both rejoined it', {
    recovery: failover?.recovery,
    notes: failover?.notes,
  });
  t.ok(restart?.recovery?.readyMs !== undefined, 'the stack served again', { notes: restart?.notes });
  t.ok(restart?.timeline.firstAck !== undefined, 'purchases acknowledged after the restart', { notes: restart?.notes });
  t.ok(target.stack !== stack, 'the drill went on on the new stack');
  for (const c of report.cycles) t.ok(c.healed, `${c.fault}: healed`, { notes: c.notes });
  for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
});
