import t from 'tap';
import { cyclePauses, DrillUsageError, parseDrillArgs, parsePauses } from '../stack/drill/options.js';

t.test('--pause-seconds takes one value or a sweep FROM:TO:STEP, one cycle per value', async (t) => {
  t.same(parsePauses('6'), [6]);
  t.same(parsePauses('4.5:7:0.5'), [4.5, 5, 5.5, 6, 6.5, 7]);
  t.same(parsePauses('0.1:0.3:0.1'), [0.1, 0.2, 0.3], 'no floating-point drift');
  for (const bad of ['', 'x', '3:1:1', '1:3:0', '1:3', '-1']) t.throws(() => parsePauses(bad), DrillUsageError, bad);
});

t.test('cycles: the sweep repeated --cycles times; without a pause, down-after + 1 s', async (t) => {
  const { options, downAfterMs } = parseDrillArgs(['--pause-seconds', '1:2:1', '--cycles', '2']);
  t.same(cyclePauses(options, downAfterMs), [1000, 2000, 1000, 2000]);
  const defaults = parseDrillArgs(['--cycles', '3', '--down-after-ms', '1000']);
  t.same(cyclePauses(defaults.options, defaults.downAfterMs), [2000, 2000, 2000]);
});

t.test('the command line: defaults, known faults only, and only the local target for now', async (t) => {
  const { options, downAfterMs, target, json } = parseDrillArgs([]);
  t.match(options, { fault: 'pause-master', cycles: 1, failoverTimeoutMs: undefined });
  t.same([downAfterMs, target, json], [5000, 'local', undefined]);
  const killing = parseDrillArgs(['--fault', 'kill-master', '--json', 'r.json']);
  t.match(killing, { options: { fault: 'kill-master' }, json: 'r.json' });
  t.throws(() => parseDrillArgs(['--fault', 'unplug']), /not one of pause-master/);
  t.throws(() => parseDrillArgs(['--target', 'compose']), /compose is not supported yet/);
  t.throws(() => parseDrillArgs(['--cycles', '0']), /--cycles/);
  t.throws(() => parseDrillArgs(['--bogus']), DrillUsageError);
});
