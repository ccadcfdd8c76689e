import t from 'tap';
import { planRoles, type SavedNode, type SavedSentinelView } from '../stack/topology/saved-roles.js';

// Which node is master after a restart, from what the stopped topology saved (no servers needed).
const HOST = '127.0.0.1';
const node = (port: number, replicaOf: number | undefined, dataWrittenAt: number | undefined): SavedNode => ({
  port,
  name: `redis-${port}`,
  replicaOf,
  dataWrittenAt,
});
const view = (sentinel: string, port: number, epoch: number, host = HOST): SavedSentinelView => ({
  sentinel,
  host,
  port,
  epoch,
});
const chain = [node(1, undefined, 100), node(2, 1, 100), node(3, 2, 100)];

t.test("the Sentinels' saved master wins, whatever the nodes' configs say", async (t) => {
  const plan = planRoles(HOST, chain, [view('s1', 2, 3), view('s2', 2, 3), view('s3', 2, 3)]);
  t.same(plan.master, 2);
  t.notOk(plan.resetSentinels, 'their configs are kept');
});

t.test('Sentinels that disagree: the newest config epoch wins, as among themselves', async (t) => {
  const plan = planRoles(HOST, chain, [view('s1', 1, 2), view('s2', 3, 5), view('s3', 1, 2)]);
  t.same(plan.master, 3, 'epoch 5 over epoch 2, though two of three say otherwise');
  t.notOk(plan.resetSentinels);
  t.match(plan.why, /the others will follow its epoch/);
});

t.test('a saved master without data is never made master: it would wipe its replicas', async (t) => {
  const nodes = [node(1, undefined, undefined), node(2, 1, 200), node(3, 1, 300)];
  const plan = planRoles(HOST, nodes, [view('s1', 1, 4)]);
  t.same(plan.master, 3, 'the node with the newest data');
  t.ok(plan.resetSentinels, 'the Sentinels are started afresh on it');
  t.match(plan.why, /holds no data/);
});

t.test('a node whose own config says master is preferred among nodes with data', async (t) => {
  const nodes = [node(1, 9, 300), node(2, undefined, 100), node(3, 1, 200)];
  t.same(planRoles(HOST, nodes, []).master, 2);
});

t.test('Sentinels naming an address that is no node of this stack are started afresh', async (t) => {
  const plan = planRoles(HOST, chain, [view('s1', 9, 1), view('s2', 1, 0, '10.0.0.9')]);
  t.same(plan.master, 1);
  t.ok(plan.resetSentinels);
  t.match(plan.why, /is not a node of this stack/);
});

t.test('a new stack, nothing saved: the first port is master, as before', async (t) => {
  const nodes = [node(1, undefined, undefined), node(2, 1, undefined), node(3, 1, undefined)];
  const plan = planRoles(HOST, nodes, []);
  t.same(plan.master, 1);
  t.notOk(plan.resetSentinels);
});

t.test('the Sentinels saved a master but no node has data (all wiped): theirs stands', async (t) => {
  const nodes = [node(1, undefined, undefined), node(2, 1, undefined), node(3, 1, undefined)];
  t.same(planRoles(HOST, nodes, [view('s1', 2, 1)]).master, 2);
});
