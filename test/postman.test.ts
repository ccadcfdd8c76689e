import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
// @ts-expect-error newman 6 ships no type declarations: the little used here is typed below.
import newman from 'newman';
import { STACK_ADMIN, startTestStack, testStackConfig } from './helpers/stack.js';

const COLLECTION = fileURLToPath(new URL('../postman/evergreen.postman_collection.json', import.meta.url));
const ENVIRONMENT = fileURLToPath(new URL('../postman/local.postman_environment.json', import.meta.url));

interface Target {
  baseUrl: string;
  /** Another API instance for the cross-instance checks; behind NGINX, baseUrl again. */
  otherInstanceUrl: string;
  admin: { username: string; password: string };
}

interface Summary {
  run: {
    stats: Record<'requests' | 'assertions', { total: number; failed: number }>;
    failures: { source?: { name?: string }; error: { test?: string; message: string } }[];
  };
}

interface Item {
  name: string;
  item?: Item[];
  request?: unknown;
  event?: { listen: string; script: { exec: string[] } }[];
}

/** Runs the collection with the local environment, pointed at the target, and resolves with newman's summary. */
function runCollection({ baseUrl, otherInstanceUrl, admin }: Target): Promise<Summary> {
  const envVar = Object.entries({
    baseUrl,
    otherInstanceUrl,
    adminUsername: admin.username,
    adminPassword: admin.password,
  }).map(([key, value]) => ({ key, value }));
  return new Promise((resolve, reject) => {
    newman.run(
      { collection: COLLECTION, environment: ENVIRONMENT, envVar, reporters: [], timeoutRequest: 10_000 },
      (err: Error | null, summary: Summary) => (err ? reject(err) : resolve(summary)),
    );
  });
}

/** The whole local stack on free ports: the collection goes through NGINX, as a Postman user's would. */
async function startLocalStack(t: Test): Promise<Target> {
  const stack = await startTestStack(t, await testStackConfig(t));
  // The cross-instance checks go straight to the second instance, so they cannot land on the first by chance.
  return { baseUrl: stack.publicUrl, otherInstanceUrl: stack.apiUrl(1), admin: STACK_ADMIN };
}

const requests = (items: Item[]): Item[] => items.flatMap((item) => (item.item ? requests(item.item) : [item]));
const collection = JSON.parse(readFileSync(COLLECTION, 'utf8')) as Item;

t.test('every request of the collection checks its answer', async (t) => {
  const all = requests(collection.item ?? []);
  t.ok(all.length >= 10, `${all.length} requests`);
  for (const item of all) {
    const tests = item.event?.find((e) => e.listen === 'test')?.script.exec.join('\n') ?? '';
    t.match(tests, /pm\.test\(/, `${item.name} has a test`);
  }
});

t.test('the purchase and admin flows pass against a live local stack', async (t) => {
  const target = await startLocalStack(t);
  const { run } = await runCollection(target);
  const failures = run.failures.map((f) => `${f.source?.name}: ${f.error.test ?? ''} ${f.error.message}`);
  t.same(failures, [], 'no failed request or assertion');
  t.equal(run.stats.requests.total, requests(collection.item ?? []).length, 'every request ran');
  t.ok(run.stats.assertions.total > run.stats.requests.total, `${run.stats.assertions.total} assertions`);
});
