import t from 'tap';
import { stateLayout } from '../stack/layout.js';
import { SmallDisks } from '../ops/deployment/local-disks.js';
import { LocalDeployment } from '../ops/deployment/local.js';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS, type FaultName } from '../ops/drill/options.js';
import { renderMarkdown } from '../ops/drill/report.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

t.setTimeout(480_000);

// The resource faults on a real stack with its Prometheus: the master's disk filled to the last byte (each node on a
// tmpfs of its own, as the drill command mounts them: this needs root, as CI is), its memory at maxmemory, a
// replica throttled into seconds of lag. Invariant 6 judges each; invariants 1–5 as for every fault.
const faults: FaultName[] = ['disk-full', 'memory-full', 'slow-replica'];
const config = await testStackConfig(t, { monitoring: true, apiEnv: { LOG_LEVEL: 'warn' } });

t.test('a full disk, a full memory, a slow replica: refused clearly, nothing lost, alerted, back', async (t) => {
  const layout = stateLayout(config.dir);
  const nodes = new Map(config.redisPorts.map((port) => [`redis-${port}`, layout.redis(port).dir]));
  const disks = await SmallDisks.mount(nodes, 256 * 2 ** 20);
  const stack = await startTestStack(t, config);
  // This subtest's teardown runs before the stack's folder is removed: stopped, then unmounted.
  t.teardown(async () => {
    await stack.stop();
    await disks.unmount({ keep: !t.passing() });
  });
  const deployment = new LocalDeployment(stack);
  deployment.attachDisks(disks);
  const report = await runDrill({ ...DEFAULT_OPTIONS, fault: faults }, deployment, (line) => t.comment(line));
  t.comment(renderMarkdown(report));
  for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
  t.ok(
    report.invariants.some((i) => i.id === 6),
    'invariant 6 judged the resource faults',
  );
  const [disk, memory, slow] = report.cycles;
  t.ok(disk?.answersByCode['503 STORE_NOT_PERSISTING'], 'a full disk: purchases refused with STORE_NOT_PERSISTING');
  t.ok(disk?.resource?.alerts.EvergreenRedisAofWriteFailed !== undefined, 'and its alert fired');
  t.ok(memory?.answersByCode['503 STORE_FULL'], 'a full memory: purchases refused with STORE_FULL');
  t.ok(memory?.resource?.alerts.EvergreenRedisMemoryFull !== undefined, 'and its alert fired');
  t.ok(slow?.resource?.replica?.excludedMs !== undefined, 'a slow replica: both instances called it lagging');
  t.equal(report.totals.failedReads, 0, 'no catalog read failed');
  t.equal(report.byFault?.length, 3, 'figures per fault');
});
