import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig, SECRET_FILE_SETTINGS } from '../src/config.js';

// X_FILE, the Docker convention for secrets (Docker secrets arrive as files under /run/secrets/, e.g. on Swarm).

const dir = mkdtempSync(path.join(tmpdir(), 'evergreen-secrets-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A secret file holding exactly `content`; its path. */
const secretFile = (content: string) => {
  const file = path.join(dir, `secret-${++files}`);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
};

const JWT = 'j'.repeat(40);

t.test('each secret setting may come from X_FILE, and only those', async (t) => {
  t.same([...SECRET_FILE_SETTINGS], ['JWT_SECRET', 'REDIS_PASSWORD', 'SENTINEL_PASSWORD', 'ADMIN_PASSWORD']);
  const config = loadConfig(
    {
      NODE_ENV: 'production',
      JWT_SECRET_FILE: secretFile(`${JWT}\n`),
      REDIS_PASSWORD_FILE: secretFile('redis-pass\n'),
      SENTINEL_PASSWORD_FILE: secretFile('sentinel-pass\n'),
      ADMIN_USERNAME: 'boss',
      ADMIN_PASSWORD_FILE: secretFile('admin-password\n'),
    },
    false,
  );
  t.equal(config.auth.jwtSecret, JWT, 'production accepts a JWT secret from a file');
  t.equal(config.redis.password, 'redis-pass');
  t.equal(config.redis.sentinelPassword, 'sentinel-pass');
  t.same(config.auth.admin, { username: 'boss', password: 'admin-password' });
});

t.test('one trailing newline is removed, nothing else is trimmed', async (t) => {
  const password = (content: string) => loadConfig({ REDIS_PASSWORD_FILE: secretFile(content) }, false).redis.password;
  t.equal(password('pass'), 'pass', 'no newline');
  t.equal(password('pass\n'), 'pass', 'echo: \\n');
  t.equal(password('pass\r\n'), 'pass', '\\r\\n');
  t.equal(password('pass\n\n'), 'pass\n', 'a second newline is kept');
  t.equal(password(' pa ss\t\n'), ' pa ss\t', 'inner and surrounding whitespace is kept');
  t.equal(password('line1\nline2\n'), 'line1\nline2', 'inner newlines are kept');
});

t.test('an empty file means unset, like an empty variable', async (t) => {
  const config = loadConfig({ REDIS_PASSWORD_FILE: secretFile(''), JWT_SECRET_FILE: secretFile('') }, false);
  t.equal(config.redis.password, undefined);
  t.equal(config.auth.jwtSecret, loadConfig({}, false).auth.jwtSecret, 'the development default');
  t.equal(loadConfig({ REDIS_PASSWORD_FILE: secretFile('\n') }, false).redis.password, undefined, 'just "\\n"');
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET_FILE: secretFile('') }, false), {
    name: 'ConfigError',
    message: /JWT_SECRET must be set/,
  });
  t.equal(loadConfig({ REDIS_PASSWORD_FILE: '' }, false).redis.password, undefined, 'an empty X_FILE is unset too');
});

t.test('X and X_FILE both set is refused, naming both', async (t) => {
  for (const name of SECRET_FILE_SETTINGS) {
    t.throws(
      () => loadConfig({ [name]: 'x'.repeat(40), [`${name}_FILE`]: secretFile('y'.repeat(40)) }, false),
      {
        name: 'ConfigError',
        message: `Invalid configuration: ${name} and ${name}_FILE are both set; set only one of them`,
      },
      name,
    );
  }
  // As in a .env copied from .env.example: an empty X is unset, so X_FILE alone counts.
  const file = secretFile('from-file\n');
  t.equal(loadConfig({ REDIS_PASSWORD: '', REDIS_PASSWORD_FILE: file }, false).redis.password, 'from-file');
});

t.test('a missing or unreadable file is refused, naming the variable and the path, never a secret', async (t) => {
  const missing = path.join(dir, 'no-such-secret');
  const source = {
    JWT_SECRET: JWT,
    ADMIN_USERNAME: 'boss',
    ADMIN_PASSWORD_FILE: secretFile('admin-password\n'),
    REDIS_PASSWORD_FILE: missing,
  };
  const err = t.throws(() => loadConfig(source, false), ConfigError) as Error;
  t.equal(err.message, `Invalid configuration: REDIS_PASSWORD_FILE is ${missing}, which cannot be read (ENOENT)`);
  t.notMatch(err.message, JWT, 'no secret set directly');
  t.notMatch(err.message, 'admin-password', 'no secret read from a file');

  const folder = path.join(dir, 'a-folder');
  mkdirSync(folder);
  t.throws(() => loadConfig({ SENTINEL_PASSWORD_FILE: folder }, false), {
    name: 'ConfigError',
    message: `Invalid configuration: SENTINEL_PASSWORD_FILE is ${folder}, which cannot be read (EISDIR)`,
  });
});

t.test('a value from a file is validated as if set directly, with the same message', async (t) => {
  const direct = t.throws(() => loadConfig({ JWT_SECRET: 'short' }, false), ConfigError) as Error;
  t.throws(() => loadConfig({ JWT_SECRET_FILE: secretFile('short\n') }, false), {
    name: 'ConfigError',
    message: direct.message,
  });
  t.match(direct.message, /JWT_SECRET/);
  t.throws(() => loadConfig({ ADMIN_USERNAME: 'boss', ADMIN_PASSWORD_FILE: secretFile('é'.repeat(37)) }, false), {
    name: 'ConfigError',
    message: /ADMIN_PASSWORD.*72 bytes/,
  });
  t.throws(() => loadConfig({ ADMIN_PASSWORD_FILE: secretFile('admin-password') }, false), {
    message: /ADMIN_USERNAME and ADMIN_PASSWORD/,
  });
});

t.test('other *_FILE variables are not read and not refused', async (t) => {
  const config = loadConfig({ KEY_PREFIX_FILE: path.join(dir, 'absent'), REDIS_USERNAME_FILE: 'nope' }, false);
  t.equal(config.redis.keyPrefix, 'eg:');
  t.equal(config.redis.username, undefined);
});
