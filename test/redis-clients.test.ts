import t from 'tap';
import pino from 'pino';
import { Redis, closeClient, followMaster, masterOptions, reviveOnEnd } from '../src/redis/connections.js';
import { FailoverWatch } from '../src/redis/failover-watch.js';
import { testConfig } from './helpers/app.js';
import { eventually } from './helpers/fixtures.js';
import { startTestTopology } from './helpers/topology.js';

// ioredis 6 ends a client for good when its Sentinel connector is disconnected during a Sentinel lookup
// (what its failover detector does on +switch-master during a reconnect). Reproduced here on purpose.
const topo = await startTestTopology(t);
const cfg = testConfig(topo).redis;
const log = pino({ level: 'silent' });

/** Starts connecting, then cuts the connector mid-lookup: the client lands in status `end`. */
function endDuringSentinelLookup(client: Redis): void {
  client.connect().catch(() => undefined);
  (client as unknown as { connector: { disconnect(): void } }).connector.disconnect();
}

t.test('without the service watching, such a client stays ended', async (t) => {
  const client = new Redis(masterOptions(cfg));
  client.on('error', () => undefined);
  t.teardown(() => closeClient(client));
  endDuringSentinelLookup(client);
  const status = await eventually(
    async () => client.status,
    (s) => s === 'end',
    2000,
  );
  t.equal(status, 'end', 'the ioredis behaviour this guards against is still there');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal(client.status, 'end', 'and nothing brings it back');
});

t.test('a client that ends without the service closing it connects again by itself', async (t) => {
  const client = new Redis(masterOptions(cfg));
  client.on('error', () => undefined);
  let revivals = 0;
  reviveOnEnd(client, log, 'master', () => revivals++);
  t.teardown(() => closeClient(client));
  endDuringSentinelLookup(client);
  const status = await eventually(
    async () => client.status,
    (s) => s === 'ready',
    5000,
  );
  t.equal(status, 'ready', 'it is ready again');
  t.equal(revivals, 1, 'and the revival was reported once');
  t.equal(await client.ping(), 'PONG', 'it serves commands');
});

t.test('a client the service closes stays closed', async (t) => {
  const client = new Redis(masterOptions(cfg));
  let revivals = 0;
  reviveOnEnd(client, log, 'master', () => revivals++);
  await client.connect();
  await closeClient(client);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(client.status, 'end');
  t.equal(revivals, 0);
});

t.test('a client revived after ending on its own keeps following the master', async (t) => {
  const watch = new FailoverWatch(cfg, log);
  t.teardown(() => watch.close());
  await watch.start(10_000);
  const client = new Redis(masterOptions(cfg));
  client.on('error', () => undefined);
  reviveOnEnd(client, log, 'master', () => undefined);
  followMaster(client, watch);
  endDuringSentinelLookup(client);
  await eventually(
    async () => client.status,
    (s) => s === 'ready',
    5000,
  );
  t.equal(watch.listenerCount('switch'), 1, 'it is still told of every switch');
  await closeClient(client);
  const left = await eventually(
    async () => watch.listenerCount('switch'),
    (n) => n === 0,
    2000,
  );
  t.equal(left, 0, 'closing it ends that (once the socket has closed)');
});
