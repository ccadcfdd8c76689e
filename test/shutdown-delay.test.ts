import t from 'tap';
import { startTestStack, testStackConfig } from './helpers/stack.js';

const DELAY_MS = 1500;

// On Swarm an API task gets SIGTERM 1.2–1.4 s after Swarm's DNS stopped naming it, and NGINX re-reads the DNS every
// second: with SHUTDOWN_DELAY_MS the instance serves on until NGINX has let go (docs/across-hosts.md).
t.test('SHUTDOWN_DELAY_MS: after SIGTERM an instance serves on for the delay, then exits', async (t) => {
  const stack = await startTestStack(t, await testStackConfig(t, { apiEnv: { SHUTDOWN_DELAY_MS: String(DELAY_MS) } }));
  const [victim] = stack.apis;
  if (!victim) throw new Error('the stack has API instances');
  const url = `${stack.apiUrl(0)}/health/live`;
  t.equal((await fetch(url)).status, 200, 'the instance serves');
  const signalledAt = Date.now();
  const exited = victim.kill('SIGTERM').then(() => Date.now() - signalledAt);
  const answers: number[] = [];
  while (Date.now() - signalledAt < DELAY_MS - 300) {
    answers.push(
      await fetch(url).then(
        (res) => res.status,
        () => 0,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.ok(answers.length >= 5, 'asked several times during the delay', { answers });
  t.ok(
    answers.every((status) => status === 200),
    'every request during the delay answered 200',
    { answers },
  );
  const exitMs = await exited;
  t.ok(exitMs >= DELAY_MS, `it exited after the delay (${exitMs} ms)`);
  t.ok(exitMs < DELAY_MS + 10_000, 'and within the grace that follows it');
});
