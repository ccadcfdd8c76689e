import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';

t.test('defaults follow the contract', async (t) => {
  const config = loadConfig({}, false);
  t.equal(config.port, 3001, 'first of API_PORTS');
  t.same(
    config.redis.sentinels,
    [26379, 26380, 26381].map((port) => ({ host: '127.0.0.1', port })),
  );
  t.equal(config.redis.masterName, 'evergreen');
  t.equal(config.rateLimit.max, 600);
  t.equal(config.rateLimit.loginMax, 10);
  t.equal(config.purchases.idempotencyTtlSeconds, 86400, 'keys kept 24 h by default');
  t.equal(config.purchases.waitReplicas, 1, 'a 201 waits for one replica by default');
  t.equal(config.auth.admin, undefined);
});

t.test('SENTINELS lists host:port pairs (Compose service names)', async (t) => {
  const config = loadConfig({ SENTINELS: 'sentinel-1:26379,sentinel-2:26380' }, false);
  t.same(config.redis.sentinels, [
    { host: 'sentinel-1', port: 26379 },
    { host: 'sentinel-2', port: 26380 },
  ]);
});

t.test('a bad variable is refused with its name in the message', async (t) => {
  t.throws(() => loadConfig({ RATE_LIMIT_MAX: 'lots' }, false), { name: 'ConfigError', message: /RATE_LIMIT_MAX/ });
  t.throws(() => loadConfig({ SENTINELS: 'no-port-here' }, false), { message: /SENTINELS/ });
  t.throws(() => loadConfig({ LOG_LEVEL: 'loud' }, false), { message: /LOG_LEVEL/ });
  t.throws(() => loadConfig({ ADMIN_USERNAME: 'boss' }, false), { message: /ADMIN_USERNAME and ADMIN_PASSWORD/ });
});

t.test('REPLICA_MAX_LAG_MS: 1 s by default, and never below the 250 ms the lag is sampled at', async (t) => {
  t.equal(loadConfig({}, false).redis.replicaMaxLagMs, 1000);
  t.equal(loadConfig({ REPLICA_MAX_LAG_MS: '2500' }, false).redis.replicaMaxLagMs, 2500);
  t.throws(() => loadConfig({ REPLICA_MAX_LAG_MS: '100' }, false), { message: /REPLICA_MAX_LAG_MS/ });
  t.throws(() => loadConfig({ REPLICA_MAX_LAG_MS: 'soon' }, false), { message: /REPLICA_MAX_LAG_MS/ });
});

t.test('production refuses a missing or weak JWT secret', async (t) => {
  t.throws(() => loadConfig({ NODE_ENV: 'production' }, false), ConfigError);
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short' }, false), { message: /JWT_SECRET/ });
  const secret = 'x'.repeat(40);
  t.equal(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }, false).auth.jwtSecret, secret);
});

t.test('an empty value means unset, as in a .env copied from .env.example', async (t) => {
  const config = loadConfig({ JWT_SECRET: '', PORT: '', SENTINELS: '', REDIS_PASSWORD: '' }, false);
  t.equal(config.port, 3001);
  t.equal(config.redis.password, undefined);
  t.equal(config.redis.sentinels.length, 3);
});

t.test('CORS_ORIGINS: unset means no CORS; otherwise exact origins, each scheme://host[:port]', async (t) => {
  t.same(loadConfig({}, false).corsOrigins, []);
  t.same(loadConfig({ CORS_ORIGINS: 'https://Shop.example.com,http://localhost:5173' }, false).corsOrigins, [
    'https://shop.example.com',
    'http://localhost:5173',
  ]);
  for (const bad of ['*', 'https://shop.example.com/', 'shop.example.com', 'https://a.com, https://b.com', 'null']) {
    t.throws(() => loadConfig({ CORS_ORIGINS: bad }, false), { name: 'ConfigError', message: /CORS_ORIGINS/ }, bad);
  }
});

t.test('ADMIN_PASSWORD is held to the 72 bytes bcrypt reads, not 72 characters', async (t) => {
  const admin = (password: string) => ({ ADMIN_USERNAME: 'boss', ADMIN_PASSWORD: password });
  t.equal(loadConfig(admin('é'.repeat(36)), false).auth.admin?.password, 'é'.repeat(36), '72 bytes');
  t.throws(() => loadConfig(admin('é'.repeat(37)), false), {
    name: 'ConfigError',
    message: /ADMIN_PASSWORD.*72 bytes/,
  });
});
