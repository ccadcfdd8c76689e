import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import t, { type Test } from 'tap';
import type { Supervised as Child } from '../stack/supervisor/supervised.js';
import { call, startTestStack, STACK_ADMIN, testStackConfig } from './helpers/stack.js';

const STREAM = { requests: 300, workers: 4, pauseMs: 40 };

t.test(
  'an API instance stopped under a steady stream of GETs costs no request, and serves again once restarted',
  async (t) => {
    const stack = await startTestStack(t, await testStackConfig(t));
    const base = stack.publicUrl;
    const admin = await call(base, 'POST', '/api/v1/auth/login', { body: STACK_ADMIN });
    const product = await call(base, 'POST', '/api/v1/products', {
      token: admin.body.token,
      body: { name: 'Kettle', priceCents: 1999, stock: 5 },
    });
    const productUrl = `/api/v1/products/${product.body.id}`;
    const [first, second] = stack.apis;
    if (!first || !second) throw new Error('the stack has two API instances');

    /** STREAM.requests GETs from STREAM.workers clients; the instance gets the signal a third of the way in. */
    const streamWhileKilling = async (t: Test, victim: Child, signal: NodeJS.Signals) => {
      const statuses: number[] = [];
      let issued = 0;
      let killedAt = 0;
      const startedAt = Date.now();
      const worker = async () => {
        while (issued++ < STREAM.requests) {
          if (issued >= STREAM.requests / 3 && !killedAt) {
            killedAt = Date.now();
            void victim.kill(signal);
          }
          statuses.push(
            await call(base, 'GET', productUrl).then(
              (res) => res.status,
              () => 0,
            ),
          );
          await sleep(STREAM.pauseMs);
        }
      };
      await Promise.all(Array.from({ length: STREAM.workers }, worker));
      await victim.whenExited();
      t.comment(`${statuses.length} requests in ${Date.now() - startedAt} ms, ${signal} at ${killedAt - startedAt} ms`);
      t.ok(killedAt > 0 && !victim.running, `${victim.spec.name} got ${signal} mid-stream and exited`);
      t.same(
        statuses.filter((s) => s !== 200),
        [],
        'every request answered 200',
      );
    };

    await t.test(`${STREAM.requests} GETs while one instance is killed (SIGKILL)`, (t) =>
      streamWhileKilling(t, first, 'SIGKILL'),
    );

    await t.test('restarted, it gets traffic again', async (t) => {
      await stack.startApi(0);
      // NGINX tries it again once its fail_timeout (5 s) has passed; the instance logs each request id.
      const served = async () => (await readFile(first.spec.log, 'utf8')).includes('"reqId":"after-restart-');
      let sent = 0;
      while (!(await served()) && sent < 300) {
        await call(base, 'GET', '/api/v1/products?limit=1', { headers: { 'x-request-id': `after-restart-${sent++}` } });
        await sleep(50);
      }
      t.ok(await served(), `the restarted instance served a request (after ${sent} requests)`);
    });

    // A graceful stop must cost nothing either: requests on its open keep-alive connections are still answered.
    await t.test(`${STREAM.requests} GETs while the other instance stops gracefully (SIGTERM)`, (t) =>
      streamWhileKilling(t, second, 'SIGTERM'),
    );

    await t.test('with no instance left, NGINX answers 502 in the contract shape', async (t) => {
      await first.kill('SIGKILL');
      const res = await call(base, 'GET', productUrl);
      t.equal(res.status, 502);
      t.same(res.body, { statusCode: 502, code: 'BAD_GATEWAY', error: 'Bad Gateway', message: res.body.message });
      t.type(res.body.message, 'string');
      t.ok(res.headers['x-request-id'], 'with a request id');
    });
  },
);
