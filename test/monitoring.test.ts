import t from 'tap';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { dashboardExpressions, toPrometheusQuery } from '../grafana/expressions.js';
import { metricNames, parsePromql } from '../grafana/promql.js';
import { stateLayout } from '../stack/layout.js';
import { printStatus } from '../stack/commands/status.js';
import type { LocalStack } from '../stack/stack.js';
import { waitFor } from './helpers/fixtures.js';
import { loadAlertRules } from './helpers/rules.js';
import { call, startTestStack, STACK_ADMIN, testStackConfig } from './helpers/stack.js';

/**
 * The proof that operators see something real: a local stack with Prometheus, Alertmanager and the
 * exporters, driven with traffic, then asked, through the live Prometheus, about every dashboard and rule.
 */

// Panels (`dashboard / panel: promql`) empty in a healthy stack by design: they show trouble, none yet.
const QUIET_WHEN_HEALTHY = [
  /ALERTS/, // firing alerts
  /status_code=~"5\.\."/, // 5xx answers
  /outcome="(not_durable|unavailable|try_again|request_in_progress)"/,
  / \/ annotation: /, // failovers, marked when they happen
  /redis_memory_max_bytes\{[^}]*\} > 0/, // the limit line, drawn when maxmemory is set (it is not here)
];

interface PromAnswer {
  status: string;
  error?: string;
  data: { result: unknown[]; activeTargets?: { labels: Record<string, string>; health: string; lastError: string }[] };
}

async function prometheus(stack: LocalStack, apiPath: string, params: Record<string, string> = {}) {
  const port = stack.config.monitoring?.prometheusPort;
  const url = `http://${stack.config.host}:${port}${apiPath}?${new URLSearchParams(params)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return (await res.json()) as PromAnswer;
}

const query = (stack: LocalStack, promql: string) => prometheus(stack, '/api/v1/query', { query: promql });

t.test('a stack with monitoring: every target up, every panel and rule backed by data', async (t) => {
  const config = await testStackConfig(t, { monitoring: true });
  const stack = await startTestStack(t, config);
  const base = stack.publicUrl;

  await t.test('every target is up, labelled with its instance', async (t) => {
    const targets = await waitFor('every target up', 30_000, async () => {
      const all = (await prometheus(stack, '/api/v1/targets', { state: 'active' })).data.activeTargets ?? [];
      const down = all.filter((target) => target.health !== 'up');
      if (all.length === 0 || down.length > 0) throw new Error(JSON.stringify(down.map((d) => d.lastError)));
      return all;
    });
    const instances = targets.map((target) => `${target.labels.job}/${target.labels.instance}`).sort();
    t.same(instances, [
      'alertmanager/alertmanager',
      'api/api-1',
      'api/api-2',
      'nginx/nginx',
      'prometheus/prometheus',
      'redis/redis-1',
      'redis/redis-2',
      'redis/redis-3',
      'sentinel/sentinel-1',
      'sentinel/sentinel-2',
      'sentinel/sentinel-3',
      'supervisor/supervisor',
    ]);
    const roles = await query(stack, 'redis_instance_info{job="redis"}');
    const byRole = (roles.data.result as { metric: Record<string, string> }[]).map((r) => r.metric.role).sort();
    t.same(byRole, ['master', 'slave', 'slave'], 'each node says its role');
  });

  // Traffic of every kind the dashboards show, once Prometheus has a first sample of every counter (rate()
  // needs two): logins, catalog reads, purchases (new, replayed, out of stock).
  const admin = await call(base, 'POST', '/api/v1/auth/login', { body: STACK_ADMIN });
  const buyer = { username: 'watcher', password: 'correct-horse-9' };
  await call(base, 'POST', '/api/v1/auth/register', { body: buyer });
  const token = (await call(base, 'POST', '/api/v1/auth/login', { body: buyer })).body.token as string;
  const product = await call(base, 'POST', '/api/v1/products', {
    token: admin.body.token,
    body: { name: 'Kettle', priceCents: 1999, stock: 5 },
  });
  const purchase = { productId: product.body.id, quantity: 2 };
  for (let i = 0; i < 3; i++) {
    const headers = { 'idempotency-key': `watch-${i}` };
    await call(base, 'POST', '/api/v1/purchases', { token, body: purchase, headers });
  }
  await call(base, 'POST', '/api/v1/purchases', { token, body: purchase, headers: { 'idempotency-key': 'watch-0' } });
  for (let i = 0; i < 30; i++) await call(base, 'GET', `/api/v1/products/${product.body.id}`);
  await call(base, 'GET', '/api/v1/products/no-such-product');

  // Everything the traffic produced is scraped at least once more before the panels are asked.
  await new Promise((resolve) => setTimeout(resolve, 12_000));

  await t.test('every metric a dashboard or a rule names is exported by someone', async (t) => {
    const expressions = [
      ...dashboardExpressions().map((e) => e.promql),
      ...(await loadAlertRules()).map((rule) => rule.expr),
    ];
    const names = [...new Set(expressions.flatMap((expr) => metricNames(expr)))].filter((n) => n !== 'ALERTS');
    const missing: string[] = [];
    for (const name of names) {
      const answer = await query(stack, `count({__name__="${name}"})`);
      if (answer.data.result.length === 0) missing.push(name);
    }
    t.same(missing, [], `${names.length} metrics, each with at least one series`);
  });

  await t.test('every dashboard expression parses, runs, and has data unless it shows trouble', async (t) => {
    const empty: string[] = [];
    for (const { dashboard, panel, promql } of dashboardExpressions()) {
      const where = `${dashboard} / ${panel}: ${promql}`;
      t.equal(parsePromql(promql), undefined, `parses: ${where}`);
      const answer = await query(stack, promql);
      t.equal(answer.status, 'success', `Prometheus runs it: ${where} ${answer.error ?? ''}`);
      if (answer.data.result.length === 0 && !QUIET_WHEN_HEALTHY.some((quiet) => quiet.test(where))) {
        empty.push(where);
      }
    }
    t.same(empty, [], 'no panel without data');
  });

  await t.test('every alert rule parses and runs; none fires in a healthy stack', async (t) => {
    for (const rule of await loadAlertRules()) {
      t.equal(parsePromql(rule.expr), undefined, `${rule.alert} parses`);
      const answer = await query(stack, rule.expr);
      t.equal(answer.status, 'success', `${rule.alert} runs ${answer.error ?? ''}`);
      t.same(answer.data.result, [], `${rule.alert} is quiet`);
    }
    t.same(toPrometheusQuery('rate(x[$__rate_interval])'), 'rate(x[1m])', 'Grafana variables become PromQL');
  });

  await t.test('status shows the monitoring processes healthy', async (t) => {
    const lines: string[] = [];
    t.ok(await printStatus(config, (line) => lines.push(line)), lines.join('\n'));
    t.match(lines.join('\n'), /Prometheus .* up +12\/12 targets up/);
    t.equal(lines.filter((l) => / Exporter /.test(l)).length, 3, 'three exporters');
  });

  await t.test('one log line per request, with the request id NGINX logs too', async (t) => {
    const id = `watch-log-${Date.now()}`;
    const res = await call(base, 'GET', `/api/v1/products/${product.body.id}`, { headers: { 'x-request-id': id } });
    t.equal(res.headers['x-request-id'], id);
    const layout = stateLayout(config.dir);
    const lines = await waitFor('the request in the logs', 5000, async () => {
      const logs = await Promise.all(config.apiPorts.map((port) => readFile(layout.api(port).log, 'utf8')));
      const found = logs
        .join('\n')
        .split('\n')
        .filter((line) => line.includes(id));
      if (found.length === 0) throw new Error('not logged yet');
      return found;
    });
    t.equal(lines.length, 1, 'exactly one line for the request');
    t.match(JSON.parse(lines[0] ?? '{}'), {
      reqId: id,
      msg: 'request',
      method: 'GET',
      route: '/api/v1/products/:id',
      status: 200,
      ms: Number,
    });
    // NGINX buffers its access log (flushed within a second): wait for the line.
    const access = await waitFor('the request in the access log', 5000, async () => {
      const text = await readFile(layout.nginx.accessLog, 'utf8');
      if (!text.includes(id)) throw new Error('not flushed yet');
      return text;
    });
    t.match(access, `"request_id":"${id}"`, "NGINX's access log names the same id");
  });

  await t.test('pausing the master fires the failover alert, which reaches the alert log', async (t) => {
    const topology = stack.topology;
    if (!topology) throw new Error('no topology');
    const old = await topology.masterAddress();
    const pausedAt = Date.now();
    topology.pause(old.port);
    t.teardown(() => (topology.pidOf(old.port) ? topology.resume(old.port) : undefined));
    const promoted = await topology.waitForFailover(old.port, 30_000);
    t.not(promoted.port, old.port, 'the Sentinels promote a replica');
    const alertsLog = path.join(stateLayout(config.dir).monitoring('alert-log').dir, 'alerts.log');
    const alert = await waitFor('the failover alert in the alert log', 60_000, async () => {
      const lines = (await readFile(alertsLog, 'utf8')).split('\n').filter(Boolean);
      const found = lines.map((l) => JSON.parse(l)).find((a) => a.alertname === 'EvergreenRedisFailover');
      if (!found) throw new Error(`not yet; alerts so far: ${lines.length}`);
      return found;
    });
    t.match(alert, { status: 'firing', severity: 'warning', summary: String });
    t.comment(
      `the failover alert reached the alert log ${((Date.now() - pausedAt) / 1000).toFixed(1)} s after the pause`,
    );
    topology.resume(old.port);
  });
});
