import t from 'tap';
import { printStatus } from '../stack/commands/status.js';
import { LocalStack } from '../stack/stack.js';
import { isAlive, straysIn, writeRecord } from '../stack/helpers/state.js';
import type { Supervised } from '../stack/supervisor/supervised.js';
import { installedProgram, waitFor } from './helpers/fixtures.js';
import { call, testStackConfig } from './helpers/stack.js';

/**
 * A whole local stack whose processes are killed from outside (kill -9, as the OOM killer or a slip of the hand
 * would): every kind comes back on its own, the launcher's endpoint and `npm run status` count it, and stop()
 * leaves nothing behind, restarted processes and NGINX's old workers included.
 */

t.test('every kind of process the stack runs is restarted after a kill -9, and counted', async (t) => {
  const config = await testStackConfig(t);
  const lines: string[] = [];
  const stack = new LocalStack(config, { nginx: await installedProgram('nginx'), log: (line) => lines.push(line) });
  const pids: number[] = [];
  try {
    await stack.start();
    const endpoint = stack.procs.supervisor;
    if (!endpoint) throw new Error('the stack started no supervisor endpoint');
    const topology = stack.topology;
    if (!topology) throw new Error('no topology');
    const master = (await topology.masterAddress()).port;
    const byName = new Map(stack.supervised().map((p) => [p.spec.name, p]));
    const replica = config.redisPorts.find((port) => port !== master);
    const victims = ['nginx', `api-${config.apiPorts[0]}`, `redis-${replica}`, `sentinel-${config.sentinelPorts[1]}`]
      .map((name) => byName.get(name))
      .filter((p): p is Supervised => p !== undefined);
    t.equal(victims.length, 4, 'NGINX, an API instance, a Redis replica and a Sentinel');
    // Written as the launcher writes it (with the pids of the first start), so that status asks the supervisor.
    await writeRecord(config.dir, {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      phase: 'ready',
      log: undefined,
      ports: (({ httpPort, statusPort, apiPorts, redisPorts, sentinelPorts }) => ({
        httpPort,
        statusPort,
        apiPorts,
        redisPorts,
        sentinelPorts,
      }))(config),
      processes: stack.processes().flatMap(({ name, pid, log }) => (pid === undefined ? [] : [{ name, pid, log }])),
    });

    for (const victim of victims) {
      const old = victim.pid as number;
      pids.push(old);
      process.kill(old, 'SIGKILL');
      const back = await waitFor(`${victim.spec.name} back`, 30_000, async () => {
        if (victim.pid === undefined || victim.pid === old) throw new Error('not restarted yet');
        return victim.pid;
      });
      await victim.waitUntilReady();
      t.equal(victim.restarts, 1, `${victim.spec.name}: restarted (pid ${old} → ${back})`);
      t.notOk(isAlive(old), `its old pid ${old} is gone`);
    }
    t.ok(
      stack.supervised().every((p) => p.crash === undefined && p.running),
      'everything runs, nothing down for good',
    );
    t.equal((await call(stack.publicUrl, 'GET', '/api/v1/products?limit=1')).status, 200, 'the store serves');

    const report = lines.join('\n');
    for (const victim of victims) {
      const name = victim.spec.name;
      t.match(report, `${name} exited unexpectedly (SIGKILL); restarting it in 0.5 s (restart 1); log: `);
      t.match(report, new RegExp(`${name} restarted after a crash \\(restart 1, 0\\.5 s backoff\\), ready in \\d+ ms`));
    }

    t.match(report, 'CRASH nginx exited unexpectedly', "the stack's own processes' crashes stand out");
    const metrics = await (await fetch(`${endpoint.url}/metrics`)).text();
    for (const victim of victims) {
      t.match(metrics, `evergreen_supervisor_restarts_total{process="${victim.spec.name}"} 1\n`);
    }
    t.equal(metrics.match(/^evergreen_supervisor_up\{.*\} 1$/gm)?.length, 9, 'all 9 processes up');

    // Status reads the endpoint: the restarted processes' new pids (the record's are stale), and their restarts.
    const statusConfig = { ...config, supervisorPort: Number(new URL(endpoint.url).port) };
    const status: string[] = [];
    const healthy = await waitFor('a healthy status', 30_000, async () => {
      status.length = 0;
      if (!(await printStatus(statusConfig, (line) => status.push(line)))) throw new Error(status.join('\n'));
      return status.join('\n');
    });
    t.comment(healthy);
    t.match(healthy, new RegExp(`✓ Supervisor +${endpoint.address} +up +4 restarts after crashes, none given up`));
    for (const victim of victims) t.match(healthy, `(pid ${victim.pid}; restarts 1, last crash `);
    t.notMatch(healthy, 'not running', 'no stale pid');
    t.equal(healthy.match(/restarts 0\)/g)?.length, 5, 'the 5 others, never restarted');
  } finally {
    pids.push(...stack.pids());
    await stack.stop();
  }
  for (const pid of pids) t.notOk(isAlive(pid), `pid ${pid} is gone after stop()`);
  t.same(await straysIn(config.dir), [], 'nothing runs from the state folder, NGINX workers included');
});
