import t from 'tap';
import redisErrors from 'redis-errors';
import { Redis } from 'ioredis';
import { isRedisUnavailable, writeRefusal } from '../src/redis/errors.js';
import { OutOfStock } from '../src/errors.js';

const { AbortError, ReplyError } = redisErrors;

// Which errors mean "Redis is away, retry shortly" (503) and which are bugs (500).
t.test('Redis replies and aborted commands are recognised by class', async (t) => {
  t.ok(isRedisUnavailable(new ReplyError('NOREPLICAS Not enough good replicas to write.')));
  t.ok(isRedisUnavailable(new ReplyError("READONLY You can't write against a read only replica.")));
  t.ok(isRedisUnavailable(new AbortError('Command aborted due to connection close')), 'a connection closed under EXEC');
});

t.test('the plain errors ioredis rejects with are recognised by their exact words', async (t) => {
  t.ok(isRedisUnavailable(new Error('Command timed out')));
  t.ok(isRedisUnavailable(new Error('Connection is closed.')));
  t.ok(isRedisUnavailable(new Error("Stream isn't writeable and enableOfflineQueue options is false")));
});

t.test('a bug is not mistaken for an outage', async (t) => {
  t.notOk(isRedisUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')")));
  t.notOk(isRedisUnavailable(new Error('something else entirely')));
  t.notOk(
    isRedisUnavailable(new TypeError('Command timed out')),
    'the words alone do not make it one: only a plain Error',
  );
  t.notOk(isRedisUnavailable(new OutOfStock('Only 1 left')));
});

t.test('what a real client says when its server is gone', async (t) => {
  const client = new Redis({ port: 1, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  const err = await client.ping().then(
    () => undefined,
    (e: unknown) => e,
  );
  client.disconnect();
  t.ok(err instanceof Error, `rejected: ${(err as Error | undefined)?.message}`);
  t.ok(isRedisUnavailable(err));
});

t.test('a master refusing writes it cannot take is told apart: memory (OOM) or disk (MISCONF)', async (t) => {
  t.equal(writeRefusal(new ReplyError("OOM command not allowed when used memory > 'maxmemory'.")), 'memory');
  t.equal(writeRefusal(new ReplyError('MISCONF Errors writing to the AOF file: No space left on device')), 'disk');
  t.equal(
    writeRefusal(new ReplyError('MISCONF Redis is configured to save RDB snapshots, but it is currently not able')),
    'disk',
  );
  const aborted = Object.assign(new ReplyError('EXECABORT Transaction discarded because of previous errors.'), {
    previousErrors: [new ReplyError("OOM command not allowed when used memory > 'maxmemory'.")],
  });
  t.equal(writeRefusal(aborted), 'memory', "an aborted MULTI by the queued command's error");
  t.equal(writeRefusal(new ReplyError("READONLY You can't write against a read only replica.")), undefined);
  t.equal(writeRefusal(new Error('OOM but not from Redis')), undefined, 'only a reply of Redis');
});
