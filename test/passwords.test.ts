import t from 'tap';
import bcrypt from 'bcryptjs';
import { Busy } from '../src/errors.js';
import { Passwords } from '../src/passwords/passwords.js';

t.test('bcrypt on worker threads: hashes bcryptjs can verify, and compares both ways', async (t) => {
  const passwords = new Passwords({ cost: 4, threads: 1, maxWaitMs: 2000 });
  t.teardown(() => passwords.close());
  const hash = await passwords.hash('correct-horse-9');
  t.match(hash, /^\$2[aby]\$04\$/, 'a bcrypt hash at the configured cost');
  t.ok(bcrypt.compareSync('correct-horse-9', hash), 'bcryptjs itself accepts it');
  t.equal(await passwords.compare('correct-horse-9', hash), true);
  t.equal(await passwords.compare('wrong-horse-9', hash), false);
});

t.test('a sign-in expected to wait past BCRYPT_MAX_WAIT_MS is refused at once with 503 BUSY', async (t) => {
  const passwords = new Passwords({ cost: 10, threads: 1, maxWaitMs: 200 });
  t.teardown(() => passwords.close());
  await passwords.hash('warm-up'); // a cold thread: not measured
  await passwords.hash('learn'); // how long a hash takes is learnt from the next one
  // Twenty submitted in one tick: the queue soon holds more than 200 ms of cost-10 hashes (each far above 10 ms).
  const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => passwords.hash('p')));
  const refused = outcomes.filter((o) => o.status === 'rejected');
  t.ok(refused.length > 0, `some refused (${refused.length} of 20)`);
  for (const o of refused) t.ok(o.status === 'rejected' && o.reason instanceof Busy, 'refused as BUSY');
  t.ok(outcomes[0]?.status === 'fulfilled', 'the first one, with nothing ahead of it, is hashed');
});

t.test('finished jobs are counted by kind and by the cost of the hash involved', async (t) => {
  const passwords = new Passwords({ cost: 5, threads: 1, maxWaitMs: 2000 });
  t.teardown(() => passwords.close());
  const atCost4 = bcrypt.hashSync('made-elsewhere', 4);
  const atCost5 = await passwords.hash('correct-horse-9');
  await passwords.compare('wrong-horse-9', atCost5);
  await passwords.compare('made-elsewhere', atCost4);
  await passwords.compare('made-elsewhere', atCost4);
  t.same(
    [passwords.finishedJobs('hash', 5), passwords.finishedJobs('compare', 5), passwords.finishedJobs('compare', 4)],
    [1, 1, 2],
  );
  t.equal(passwords.finishedJobs('hash', 4), 0);
});
