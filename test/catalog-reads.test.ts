import t from 'tap';
import type { Redis } from 'ioredis';
import { CatalogReads } from '../src/redis/catalog-reads.js';
import type { FailoverWatch } from '../src/redis/failover-watch.js';

// Where a catalog read goes, as pure routing: clients stand in by their status, the query names who answered.
type Stub = { name: string; status: string };
const client = (name: string, status = 'ready') => ({ name, status }) as Stub;
const asRedis = (stub: Stub) => stub as unknown as Redis;

function reads(
  replicas: Stub[],
  master: Stub,
  opts: { masterAnswers: boolean; inRotation: (name: string) => boolean },
) {
  const watch = {
    fence: { fenced: !opts.masterAnswers },
    isMaster: () => opts.masterAnswers,
  } as unknown as FailoverWatch;
  const served: string[] = [];
  const routing = new CatalogReads(
    replicas.map(asRedis),
    asRedis(master),
    watch,
    (source) => served.push(source),
    (r) => opts.inRotation((r as unknown as Stub).name),
  );
  const whoAnswers = () => routing.run(async (r) => (r as unknown as Stub).name);
  return { whoAnswers, served };
}

t.test('a lagging replica is skipped while another is in rotation', async (t) => {
  const { whoAnswers } = reads([client('a'), client('b')], client('m'), {
    masterAnswers: true,
    inRotation: (name) => name !== 'b',
  });
  const answers = await Promise.all([1, 2, 3, 4].map(whoAnswers));
  t.same(new Set(answers), new Set(['a']), 'only the replica in rotation answers');
});

t.test('every replica lagging and the master answering: the master', async (t) => {
  const { whoAnswers, served } = reads([client('a'), client('b')], client('m'), {
    masterAnswers: true,
    inRotation: () => false,
  });
  t.equal(await whoAnswers(), 'm');
  t.same(served, ['master']);
});

t.test('every replica "lagging" because the master is gone: a replica answers rather than nobody', async (t) => {
  const { whoAnswers, served } = reads([client('a'), client('b')], client('m', 'reconnecting'), {
    masterAnswers: false,
    inRotation: () => false,
  });
  t.match(await whoAnswers(), /^[ab]$/);
  t.same(served, ['replica']);
});

t.test('nobody ready within the budget: the read fails', async (t) => {
  const { whoAnswers } = reads([client('a', 'connecting')], client('m', 'connecting'), {
    masterAnswers: false,
    inRotation: () => true,
  });
  await t.rejects(whoAnswers(), { code: 'SERVICE_UNAVAILABLE' });
});
