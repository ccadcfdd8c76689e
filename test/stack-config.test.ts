import t from 'tap';
import path from 'node:path';
import { loadStackConfig, StackConfigError } from '../stack/config.js';
import { repoRoot } from '../stack/layout.js';

// The local stack's configuration: the defaults docs/local-stack.md lists, and a clear refusal naming the variable.
t.test('with nothing set, the documented defaults', async (t) => {
  const config = loadStackConfig({});
  t.match(config, {
    dir: path.join(repoRoot, '.stack'),
    httpPort: 8080,
    statusPort: 8081,
    apiPorts: [3001, 3002],
    redisPorts: [6379, 6380, 6381],
    sentinelPorts: [26379, 26380, 26381],
    masterName: 'evergreen',
    downAfterMs: 5000,
    failoverTimeoutMs: 10000,
    admin: undefined,
  });
});

t.test('values from the environment; an empty one means unset', async (t) => {
  const config = loadStackConfig({
    HTTP_PORT: '9080',
    API_PORTS: '4001,4002',
    SENTINEL_DOWN_AFTER_MS: '',
    STACK_DIR: '.b',
  });
  t.match(config, { httpPort: 9080, apiPorts: [4001, 4002], downAfterMs: 5000, dir: path.join(repoRoot, '.b') });
});

t.test('a bad value is refused, naming the variable', async (t) => {
  const refusal = (env: Record<string, string>) => t.throws(() => loadStackConfig(env), StackConfigError);
  t.throws(() => loadStackConfig({ HTTP_PORT: '70000' }), /HTTP_PORT/);
  t.throws(() => loadStackConfig({ API_PORTS: '3001' }), /API_PORTS must list exactly 2 ports/);
  t.throws(() => loadStackConfig({ REDIS_PORTS: '6379' }), /REDIS_PORTS must list at least 2 ports/);
  t.throws(() => loadStackConfig({ SENTINEL_PORTS: '26379,x' }), /SENTINEL_PORTS/);
  t.throws(() => loadStackConfig({ ADMIN_USERNAME: 'root' }), /ADMIN_USERNAME and ADMIN_PASSWORD must be set together/);
  refusal({ SENTINEL_DOWN_AFTER_MS: 'soon' });
});
