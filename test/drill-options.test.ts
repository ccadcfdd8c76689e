import t from 'tap';
import { ComposeDeployment } from '../ops/deployment/compose.js';
import { SwarmDeployment } from '../ops/deployment/swarm.js';
import { refusedFaults } from '../ops/drill/faults.js';
import {
  cyclePlan,
  DRILL_USAGE,
  DrillUsageError,
  FAULTS,
  faultLabel,
  MIXED_FAULTS,
  parseDrillArgs,
  parseFaults,
  parsePauses,
} from '../ops/drill/options.js';

t.test('--pause-seconds takes one value or a sweep FROM:TO:STEP, one cycle per value', async (t) => {
  t.same(parsePauses('6'), [6]);
  t.same(parsePauses('4.5:7:0.5'), [4.5, 5, 5.5, 6, 6.5, 7]);
  t.same(parsePauses('0.1:0.3:0.1'), [0.1, 0.2, 0.3], 'no floating-point drift');
  for (const bad of ['', 'x', '3:1:1', '1:3:0', '1:3', '-1']) t.throws(() => parsePauses(bad), DrillUsageError, bad);
});

t.test('cycles: the sweep repeated --cycles times; without a pause, down-after + 1 s', async (t) => {
  const { options, downAfterMs } = parseDrillArgs(['--pause-seconds', '1:2:1', '--cycles', '2']);
  t.same(
    cyclePlan(options, downAfterMs).map((c) => c.pauseMs),
    [1000, 2000, 1000, 2000],
  );
  const defaults = parseDrillArgs(['--cycles', '3', '--down-after-ms', '1000']);
  t.same(cyclePlan(defaults.options, defaults.downAfterMs), [
    { fault: 'pause-master', pauseMs: 2000 },
    { fault: 'pause-master', pauseMs: 2000 },
    { fault: 'pause-master', pauseMs: 2000 },
  ]);
});

t.test('--fault takes a comma-separated sequence: the cycles run through it in order, --cycles times', async (t) => {
  const { options, downAfterMs } = parseDrillArgs([
    '--fault',
    'replica-down-during-failover,restart-stack',
    '--cycles',
    '2',
  ]);
  t.same(options.fault, ['replica-down-during-failover', 'restart-stack']);
  t.same(
    cyclePlan(options, downAfterMs).map((c) => c.fault),
    ['replica-down-during-failover', 'restart-stack', 'replica-down-during-failover', 'restart-stack'],
  );
  t.equal(faultLabel(options), 'replica-down-during-failover,restart-stack', 'the report names the sequence');
  const swept = parseDrillArgs(['--fault', 'pause-master,crash-api', '--pause-seconds', '1:2:1']);
  t.same(cyclePlan(swept.options, swept.downAfterMs), [
    { fault: 'pause-master', pauseMs: 1000 },
    { fault: 'pause-master', pauseMs: 2000 },
    { fault: 'crash-api', pauseMs: 1000 },
    { fault: 'crash-api', pauseMs: 2000 },
  ]);
  t.same(parseFaults(' crash-nginx , mixed '), ['crash-nginx', 'mixed'], 'spaces around a name are fine');
  t.throws(() => parseDrillArgs(['--fault', 'crash-api,unplug']), /"unplug" is not one of pause-master/);
  t.throws(() => parseDrillArgs(['--fault', 'crash-api,']), /"" is not one of/, 'an empty name');
  t.throws(() => parseDrillArgs(['--fault', '']), DrillUsageError);
});

t.test('the new faults are known, and mixed draws from every fault but restart-stack', async (t) => {
  for (const fault of ['crash-api', 'crash-replica', 'crash-sentinel', 'crash-nginx', 'replica-down-during-failover']) {
    t.ok(FAULTS.includes(fault as never), fault);
    t.ok(MIXED_FAULTS.includes(fault as never), `mixed may draw ${fault}`);
    t.match(DRILL_USAGE, fault);
  }
  t.notOk(MIXED_FAULTS.includes('restart-stack' as never), 'a whole-stack outage is asked for by name');
  t.notOk(MIXED_FAULTS.includes('mixed' as never));
  t.match(DRILL_USAGE, /comma-separated/);
});

t.test('the command line: defaults, known faults only, and a local, Compose or Swarm target', async (t) => {
  const { options, downAfterMs, target, json } = parseDrillArgs([]);
  t.match(options, { fault: 'pause-master', cycles: 1, failoverTimeoutMs: undefined });
  t.same([downAfterMs, target, json], [5000, 'local', undefined]);
  const killing = parseDrillArgs(['--fault', 'kill-master', '--json', 'r.json', '--html', 'r.html']);
  t.match(killing, { options: { fault: 'kill-master' }, json: 'r.json', html: 'r.html' });
  t.equal(parseDrillArgs([]).html, undefined, 'no page unless asked for');
  t.throws(() => parseDrillArgs(['--fault', 'unplug']), /not one of pause-master/);
  t.equal(parseDrillArgs(['--target', 'compose']).target, 'compose');
  t.equal(parseDrillArgs(['--target', 'swarm']).target, 'swarm');
  t.throws(() => parseDrillArgs(['--target', 'kubernetes']), /none of local, compose, swarm/);
  t.throws(() => parseDrillArgs(['--cycles', '0']), /--cycles/);
  t.throws(() => parseDrillArgs(['--bogus']), DrillUsageError);
});

t.test('each kind refuses, up front, the faults it cannot inject', async (t) => {
  const swarm = { kind: 'swarm' as const, capabilities: SwarmDeployment.CAPABILITIES };
  const compose = { kind: 'compose' as const, capabilities: ComposeDeployment.CAPABILITIES };
  t.same(refusedFaults(swarm, ['kill-node', 'freeze-node', 'partition-node', 'drain-node', 'upgrade-api']), []);
  t.same(refusedFaults(swarm, ['pause-master', 'pause-replicas', 'double-failover']), [], 'pauses need nothing more');
  for (const fault of ['kill-master', 'kill-api', 'restart-all', 'replica-down-during-failover'] as const) {
    t.match(refusedFaults(swarm, [fault]), [new RegExp(`^${fault} needs a killed member that stays down`)], fault);
  }
  t.match(refusedFaults(swarm, ['crash-api']), [/^crash-api needs a supervisor/]);
  t.match(refusedFaults(compose, ['kill-node']), [/^kill-node needs hosts of their own/]);
  t.same(refusedFaults(compose, ['kill-master', 'restart-stack']), []);
});
