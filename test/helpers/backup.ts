import { Redis } from 'ioredis';
import type { Test } from 'tap';
import type { StackControl } from '../../ops/deployment/local.js';
import type { StackConfig } from '../../stack/config.js';
import { adminAuth, type RedisSecrets } from '../../stack/helpers/redis-users.js';
import type { LocalStack } from '../../stack/stack.js';
import { waitFor } from './fixtures.js';
import { call, STACK_ADMIN, startTestStack } from './stack.js';

/** Helpers for the backup and restore tests: a stack to stop and start again, and the store read key by key. */

/** StackControl over a test's in-process stack: a restore stops it and starts a fresh one from the same config. */
export function testStackControl(t: Test, config: StackConfig, first: LocalStack) {
  let stack: LocalStack | undefined = first;
  const control: StackControl = {
    isRunning: async () => stack !== undefined,
    stopStack: async () => {
      await stack?.stop();
      stack = undefined;
    },
    startStack: async () => {
      stack = await startTestStack(t, config);
    },
  };
  return { control, current: () => stack };
}

/** Every key under the prefix but the rate-limit counters (each request changes them), by its content. */
export async function readStore(host: string, port: number, secrets: RedisSecrets, prefix: string) {
  const redis = new Redis({ host, port, ...adminAuth(secrets), lazyConnect: true });
  try {
    await redis.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found.filter((key) => !key.startsWith(`${prefix}rl:`)));
    } while (cursor !== '0');
    const store: Record<string, unknown> = {};
    for (const key of keys.sort()) store[key] = await contentOf(redis, key);
    return store;
  } finally {
    redis.disconnect();
  }
}

async function contentOf(redis: Redis, key: string): Promise<unknown> {
  const type = await redis.type(key);
  switch (type) {
    case 'hash':
      return { hash: await redis.hgetall(key) };
    case 'zset':
      return { zset: await redis.zrange(key, '0', '-1', 'WITHSCORES') };
    case 'string':
      return { string: await redis.get(key) };
    case 'set':
      return { set: (await redis.smembers(key)).sort() };
    case 'list':
      return { list: await redis.lrange(key, 0, -1) };
    default:
      return { type };
  }
}

/** Every node's store, master first, from the nodes themselves (replicas too). */
export async function readEveryNode(stack: LocalStack) {
  const topology = stack.topology;
  if (!topology) throw new Error('the stack is not started');
  const { host, redisPorts } = stack.config;
  const master = await topology.masterAddress();
  const ports = [master.port, ...redisPorts.filter((port) => port !== master.port)];
  const stores = [];
  for (const port of ports) {
    stores.push({ port, store: await readStore(host, port, stack.credentials.redis, stack.config.keyPrefix) });
  }
  return stores;
}

export interface Shop {
  base: string;
  adminToken: string;
  shopperToken: string;
  products: { id: string; stock: number }[];
}

/** An admin and a shopper signed in, and `count` products with `stock` each, through NGINX. */
export async function openShop(base: string, count: number, stock: number, shopper = 'shopper'): Promise<Shop> {
  const admin = await call(base, 'POST', '/api/v1/auth/login', { body: STACK_ADMIN });
  const password = 'correct-horse-9';
  await call(base, 'POST', '/api/v1/auth/register', { body: { username: shopper, password } });
  const login = await call(base, 'POST', '/api/v1/auth/login', { body: { username: shopper, password } });
  const products = [];
  for (let i = 0; i < count; i++) {
    const created = await call(base, 'POST', '/api/v1/products', {
      token: admin.body.token,
      body: { name: `Item ${i}`, priceCents: 100 + i, stock },
    });
    if (created.status !== 201) throw new Error(`product ${i}: ${created.status} ${JSON.stringify(created.body)}`);
    products.push({ id: String(created.body.id), stock });
  }
  return { base, adminToken: String(admin.body.token), shopperToken: String(login.body.token), products };
}

/** One purchase with an Idempotency-Key of its own; resolves with the status. */
export async function buy(shop: Shop, productId: string, quantity: number, key: string): Promise<number> {
  const res = await call(shop.base, 'POST', '/api/v1/purchases', {
    token: shop.shopperToken,
    body: { productId, quantity },
    headers: { 'idempotency-key': key },
  });
  return res.status;
}

/** Waits until every replica's offset is the master's: the store a backup then snapshots is the master's. */
export async function replicasInSync(stack: LocalStack): Promise<void> {
  const topology = stack.topology;
  if (!topology) throw new Error('the stack is not started');
  const master = await topology.masterAddress();
  const redis = new Redis({ ...master, ...adminAuth(stack.credentials.redis), lazyConnect: true });
  try {
    await redis.connect();
    await replicasAtMasterOffset(redis, stack.config.redisPorts.length - 1);
  } finally {
    redis.disconnect();
  }
}

/** Waits until the master (a client of it) has `replicas` replicas, each at its own replication offset. */
export function replicasAtMasterOffset(master: Redis, replicas: number, timeoutMs = 10_000): Promise<void> {
  return waitFor('every replica at the master offset', timeoutMs, async () => {
    const info = await master.info('replication');
    const offset = /^master_repl_offset:(\d+)/m.exec(info)?.[1];
    const offsets = [...info.matchAll(/^slave\d+:.*,offset=(\d+)/gm)].map((m) => m[1]);
    if (offsets.length !== replicas || offsets.some((o) => o !== offset)) {
      throw new Error(`master at ${offset}, replicas at ${offsets.join(', ')}`);
    }
  });
}
