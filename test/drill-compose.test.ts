import t from 'tap';
import { startComposeDeployment } from '../ops/deployment/compose-start.js';
import { DRILL_API_ENV } from '../ops/drill/command.js';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS } from '../ops/drill/options.js';
import { renderMarkdown } from '../ops/drill/report.js';
import { engineForTests } from './helpers/compose-run.js';

// compose up ~50 s (minutes when the API image must be rebuilt), one pause-master cycle ~30 s, one
// replica-down-during-failover cycle ~30 s, one restart-stack cycle ~50 s, down ~5 s.
t.setTimeout(600_000);

t.test('the drill on a Compose project of its own: docker pause of the master, every invariant holds', async (t) => {
  if (!(await engineForTests(t))) return t.pass('SKIPPED, not silently: no Docker engine can be had here');
  const log = (msg: string) => t.comment(msg);
  const timings = { downAfterMs: 5000, failoverTimeoutMs: 10_000 };
  const deployment = await startComposeDeployment({
    purpose: 'drill-test',
    ...timings,
    keep: false,
    log,
    apiEnv: DRILL_API_ENV,
  });
  t.teardown(() => deployment.stop());
  await t.rejects(
    runDrill({ ...DEFAULT_OPTIONS, fault: 'crash-nginx' }, deployment, log),
    /crash-nginx needs a supervisor/,
    'a fault the kind cannot inject is refused before anything runs',
  );
  const report = await runDrill({ ...DEFAULT_OPTIONS, fault: 'pause-master' }, deployment, log);
  t.comment(renderMarkdown(report));
  t.match(report.cycles[0]?.actions[0]?.what, /^docker pause redis-\d/, 'the master paused by docker pause');
  t.ok(report.cycles[0]?.healed, 'healed', { notes: report.cycles[0]?.notes });
  for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });

  // The old master and a replica were down while the Sentinels promoted the last node: each container, started
  // again, must take the role the Sentinels give it before Redis starts, not the one its config kept.
  const second = await runDrill({ ...DEFAULT_OPTIONS, fault: 'replica-down-during-failover' }, deployment, log);
  t.comment(renderMarkdown(second));
  const cycle = second.cycles[0];
  const promoted = cycle?.newMasterHost;
  t.ok(promoted, 'the Sentinels promoted the last node', { notes: cycle?.notes });
  t.ok(cycle?.healed, 'healed', { notes: cycle?.notes });
  const stopped = (cycle?.actions ?? []).flatMap(({ what }) => /^SIG(?:TERM|KILL) (redis-\d)/.exec(what)?.[1] ?? []);
  t.equal(stopped.length, 2, 'a replica and the master were stopped', { actions: cycle?.actions });
  for (const node of stopped) {
    const logs = await deployment.project.logs(node, 200);
    const lines = logs.split('\n').filter((line) => line.includes('evergreen: '));
    t.match(lines.at(-1), `${node} starts as a replica of ${promoted}, the master the Sentinels name`, node, { lines });
  }
  for (const i of second.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });

  // Every service stopped under load and brought up again on the same volumes: nothing acknowledged is lost.
  const third = await runDrill({ ...DEFAULT_OPTIONS, fault: 'restart-stack' }, deployment, log);
  t.comment(renderMarkdown(third));
  const restart = third.cycles[0];
  const said = (restart?.actions ?? []).map(({ what }) => what);
  t.ok(
    said.some((what) => /^the stack serves again/.test(what)),
    'the project served again after the stop',
    { said },
  );
  t.ok(restart?.healed, 'healed', { notes: restart?.notes });
  t.ok((restart?.acknowledged ?? 0) > 0, 'purchases were acknowledged in the cycle', { cycle: restart });
  for (const i of third.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
});
