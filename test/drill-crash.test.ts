import t from 'tap';
import { runDrill } from '../ops/drill/drill.js';
import { DEFAULT_OPTIONS, type FaultName } from '../ops/drill/options.js';
import { renderMarkdown } from '../ops/drill/report.js';
import { startTestStack, testStackConfig } from './helpers/stack.js';

// Four cycles, each a crash, the supervisor's comeback, a heal and some steady load.
t.setTimeout(240_000);

// From the kill to the readiness probe passing: a 0.5 s backoff, then a start (an API instance compiles with tsx).
const READY_WITHIN_MS: Record<string, number> = {
  'crash-replica': 10_000,
  'crash-sentinel': 10_000,
  'crash-nginx': 10_000,
  'crash-api': 30_000,
};

t.test(
  'a replica, a Sentinel, NGINX and an API instance SIGKILLed from outside: each comes back by itself',
  async (t) => {
    const config = await testStackConfig(t);
    config.apiEnv.LOG_LEVEL = 'warn'; // thousands of requests: only what goes wrong belongs in the instances' logs
    const stack = await startTestStack(t, config);
    const fault: FaultName[] = ['crash-replica', 'crash-sentinel', 'crash-nginx', 'crash-api'];
    const report = await runDrill({ ...DEFAULT_OPTIONS, fault }, stack, (line) => t.comment(line));
    t.comment(renderMarkdown(report));
    t.same(
      report.cycles.map((c) => c.fault),
      fault,
      'one cycle of each, in order',
    );
    for (const c of report.cycles) {
      const bound = READY_WITHIN_MS[c.fault] ?? 0;
      const r = c.recovery;
      const extra = { recovery: r, notes: c.notes };
      t.ok(r?.newPid !== undefined && r.pidMs !== undefined, `${c.fault}: ${r?.process} runs again, new pid`, extra);
      t.ok(r?.readyMs !== undefined && r.readyMs <= bound, `${c.fault}: ready within ${bound / 1000} s`, extra);
      t.ok(c.healed, `${c.fault}: healed`, { notes: c.notes });
    }
    for (const i of report.invariants) t.ok(i.pass, `${i.id}. ${i.name}`, { counts: i.counts, examples: i.examples });
  },
);
