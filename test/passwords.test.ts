import t from 'tap';
import bcrypt from 'bcryptjs';
import { Busy } from '../src/errors.js';
import { Passwords } from '../src/passwords/passwords.js';

t.test('bcrypt on worker threads: hashes bcryptjs can verify, and compares both ways', async (t) => {
  const passwords = new Passwords({ cost: 4, threads: 1, maxQueue: 8 });
  t.teardown(() => passwords.close());
  const hash = await passwords.hash('correct-horse-9');
  t.match(hash, /^\$2[aby]\$04\$/, 'a bcrypt hash at the configured cost');
  t.ok(bcrypt.compareSync('correct-horse-9', hash), 'bcryptjs itself accepts it');
  t.equal(await passwords.compare('correct-horse-9', hash), true);
  t.equal(await passwords.compare('wrong-horse-9', hash), false);
});

t.test('past BCRYPT_MAX_QUEUE waiting jobs, a request is refused with 503 BUSY, not queued', async (t) => {
  const passwords = new Passwords({ cost: 4, threads: 1, maxQueue: 2 });
  t.teardown(() => passwords.close());
  // Submitted in one tick: at most one running and two waiting, so the fourth and fifth find the queue full.
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => passwords.hash('p')));
  const refused = outcomes.filter((o) => o.status === 'rejected');
  t.ok(refused.length >= 2, `at least two refused (${refused.length})`);
  for (const o of refused) t.ok(o.status === 'rejected' && o.reason instanceof Busy, 'refused as BUSY');
  t.ok(outcomes.filter((o) => o.status === 'fulfilled').length >= 1, 'the first one is hashed');
});
