import t, { type Test } from 'tap';
import { execa } from 'execa';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { findProgram } from '../stack/helpers/packages.js';
import {
  loadAlertRules,
  PROMETHEUS_DIR,
  repoRoot,
  RULE_TESTS_DIR,
  RULES_DIR,
  yamlFiles,
  type AlertRule,
} from './helpers/rules.js';

interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
}

interface RuleTestFile {
  rule_files: string[];
  evaluation_interval?: string;
  tests: { name?: string; interval?: string; input_series?: { series: string }[]; alert_rule_test?: AlertTest[] }[];
}

const ALERTMANAGER_FILE = path.join(PROMETHEUS_DIR, 'alertmanager.yml');
const WEBHOOK_PLACEHOLDER = '${ALERT_WEBHOOK_URL}';
const SAMPLE_WEBHOOK_URL = 'http://127.0.0.1:9099/alerts';

const rel = (file: string) => path.relative(repoRoot, file);
const ruleFiles = (await yamlFiles(RULES_DIR)).map(rel);
const testFiles = (await yamlFiles(RULE_TESTS_DIR)).map(rel);
const rules = await loadAlertRules();
const ruleTests = await Promise.all(
  testFiles.map(async (file) => ({
    file,
    parsed: parse(await readFile(path.join(repoRoot, file), 'utf8')) as RuleTestFile,
  })),
);
const alertTests = ruleTests.flatMap(({ file, parsed }) =>
  parsed.tests.flatMap((test) => (test.alert_rule_test ?? []).map((check) => ({ file, test, check }))),
);

/** A program's absolute path; fails the test (with how to install it) when it is missing. */
async function program(t: Test, name: string, pkg: string): Promise<string | undefined> {
  const at = await findProgram(name);
  if (!at) t.fail(`${name} is not installed (npm test installs it: apt-get install ${pkg})`);
  return at;
}

/** Runs a program from the repository root; its stdout and stderr together, for the assertion messages. */
async function run(file: string, args: string[]) {
  const result = await execa(file, args, { cwd: repoRoot, reject: false, all: true });
  return { exitCode: result.exitCode, output: `${file} ${args.join(' ')}\n${result.all ?? ''}` };
}

const promtool = (t: Test) => program(t, 'promtool', 'prometheus');
const amtool = (t: Test) => program(t, 'amtool', 'prometheus-alertmanager');

t.test('promtool check rules accepts every rule file', async (t) => {
  const bin = await promtool(t);
  if (!bin) return;
  t.ok(ruleFiles.length > 0, 'prometheus/rules has rule files');
  const { exitCode, output } = await run(bin, ['check', 'rules', ...ruleFiles]);
  t.equal(exitCode, 0, output);
});

t.test('every promtool unit test (prometheus/tests/*.yml) passes', async (t) => {
  const bin = await promtool(t);
  if (!bin) return;
  t.ok(testFiles.length > 0, 'prometheus/tests has test files');
  const { exitCode, output } = await run(bin, ['test', 'rules', ...testFiles]);
  t.equal(exitCode, 0, output);
});

t.test('the checks can fail: a broken rule file and a wrong expectation are refused', async (t) => {
  const bin = await promtool(t);
  if (!bin) return;
  const dir = t.testdir();
  const broken = path.join(dir, 'broken.yml');
  await writeFile(
    broken,
    'groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: sum(rate(up[5m])\n',
    'utf8',
  );
  const check = await run(bin, ['check', 'rules', broken]);
  t.not(check.exitCode, 0, `a parse error fails promtool check rules:\n${check.output}`);
  t.match(check.output, /parse error|unclosed/i, 'and says why');

  // NGINX down for 2 minutes fires EvergreenNginxDown: a test that says it does not must fail.
  const wrong = path.join(dir, 'wrong.yml');
  await writeFile(
    wrong,
    [
      'rule_files:',
      `  - ${JSON.stringify(path.join(RULES_DIR, 'nginx.yml'))}`,
      'evaluation_interval: 15s',
      'tests:',
      '  - interval: 15s',
      '    input_series:',
      `      - series: 'nginx_up{job="nginx",instance="nginx"}'`,
      `        values: '0x10'`,
      '    alert_rule_test:',
      '      - eval_time: 2m',
      '        alertname: EvergreenNginxDown',
      '        exp_alerts: []',
      '',
    ].join('\n'),
    'utf8',
  );
  const test = await run(bin, ['test', 'rules', wrong]);
  t.not(test.exitCode, 0, `a wrong expectation fails promtool test rules:\n${test.output}`);
  t.match(test.output, /FAILED/, 'and says so');
});

t.test('amtool accepts alertmanager.yml once its webhook URL is rendered, and refuses a broken one', async (t) => {
  const bin = await amtool(t);
  if (!bin) return;
  const template = await readFile(ALERTMANAGER_FILE, 'utf8');
  t.ok(template.includes(WEBHOOK_PLACEHOLDER), `alertmanager.yml has the ${WEBHOOK_PLACEHOLDER} placeholder`);
  const rendered = path.join(t.testdir(), 'alertmanager.yml');
  await writeFile(rendered, template.replaceAll(WEBHOOK_PLACEHOLDER, SAMPLE_WEBHOOK_URL), 'utf8');
  const good = await run(bin, ['check-config', rendered]);
  t.equal(good.exitCode, 0, good.output);

  const broken = path.join(t.testdir(), 'broken.yml');
  await writeFile(broken, 'route:\n  receiver: nobody\nreceivers:\n  - name: webhook\n', 'utf8');
  const bad = await run(bin, ['check-config', broken]);
  t.not(bad.exitCode, 0, `a route to an unknown receiver fails amtool check-config:\n${bad.output}`);
});

t.test(
  'alertmanager.yml: one webhook receiver that sends resolutions, and inhibitions naming real alerts',
  async (t) => {
    const template = await readFile(ALERTMANAGER_FILE, 'utf8');
    const config = parse(template) as {
      route: { receiver: string; group_by: string[]; group_wait: string };
      receivers: { name: string; webhook_configs?: { url: string; send_resolved?: boolean }[] }[];
      inhibit_rules?: unknown[];
    };
    const webhooks = config.receivers.flatMap((r) => r.webhook_configs ?? []);
    t.same(webhooks, [{ url: WEBHOOK_PLACEHOLDER, send_resolved: true }], 'the one webhook, resolutions included');
    t.same(config.route.group_by, ['alertname', 'instance']);
    t.equal(config.route.group_wait, '5s', 'a failover alert goes out within seconds');
    const alerts = new Set(rules.map((r) => r.alert));
    const named = JSON.stringify(config.inhibit_rules ?? []).match(/Evergreen[A-Za-z0-9]+/g) ?? [];
    t.ok(named.length > 0, 'there are inhibit rules');
    for (const name of new Set(named)) t.ok(alerts.has(name), `inhibit rules name ${name}, an alert of the rules`);
  },
);

t.test('every alert has a CamelCase unique name, a severity, a summary, a description and a runbook', async (t) => {
  t.ok(rules.length >= 20, `${rules.length} alerts`);
  const seen = new Set<string>();
  for (const rule of rules) {
    const where = `${rule.alert} (${rule.file}, group ${rule.group})`;
    t.match(rule.alert, /^Evergreen(?:[A-Z][a-z0-9]*)+$/, `${where}: CamelCase, Evergreen…`);
    t.notOk(seen.has(rule.alert), `${where}: the only alert of that name`);
    seen.add(rule.alert);
    t.ok(['critical', 'warning'].includes(rule.labels.severity ?? ''), `${where}: severity critical or warning`);
    for (const field of ['summary', 'description', 'runbook']) {
      t.ok((rule.annotations[field] ?? '').trim().length > 0, `${where}: has a ${field}`);
    }
    t.notMatch(rule.annotations.runbook ?? '', /\n/, `${where}: a one-line runbook`);
  }
});

t.test('the unit tests cover every alert and every rule file, and live outside rules/', async (t) => {
  const covered = new Set<string>();
  for (const { file, parsed } of ruleTests) {
    for (const ruleFile of parsed.rule_files) {
      t.match(ruleFile, /^\.\.\/rules\/[\w-]+\.yml$/, `${file} loads ${ruleFile} from ../rules/`);
      covered.add(rel(path.resolve(repoRoot, path.dirname(file), ruleFile)));
    }
  }
  for (const ruleFile of ruleFiles) t.ok(covered.has(ruleFile), `a unit test file loads ${ruleFile}`);

  const unknown = alertTests.filter(({ check }) => !rules.some((r) => r.alert === check.alertname));
  t.same(
    unknown.map(({ file, check }) => `${file}: ${check.alertname}`),
    [],
    'every alertname the tests check is an alert of the rules',
  );
  for (const { alert } of rules) {
    const checks = alertTests.filter(({ check }) => check.alertname === alert);
    const fires = checks.filter(({ check }) => (check.exp_alerts ?? []).length > 0);
    const silent = checks.filter(({ check }) => (check.exp_alerts ?? []).length === 0);
    t.ok(fires.length > 0, `${alert}: a test where it fires`);
    t.ok(silent.length > 0, `${alert}: a test where it must not fire`);
    for (const { file, check } of fires) {
      for (const expected of check.exp_alerts ?? []) {
        t.ok(expected.exp_labels?.severity, `${file} ${alert} at ${check.eval_time}: checks the severity`);
        t.ok(expected.exp_annotations?.summary, `${file} ${alert} at ${check.eval_time}: checks the summary`);
      }
    }
  }
});

t.test('a simulated failover (master 127.0.0.1:6379 -> 127.0.0.1:6380) fires EvergreenRedisFailover', async (t) => {
  const failover = rules.find((r) => r.alert === 'EvergreenRedisFailover') as AlertRule | undefined;
  t.ok(failover, 'the rule exists');
  t.match(failover?.expr ?? '', /redis_sentinel_master_status/, 'it watches the address Sentinel reports');
  t.ok(failover && (failover.for === undefined || /^0[smh]?$/.test(failover.for)), 'and fires at once');
  const simulations = alertTests.filter(({ test, check }) => {
    const series = (test.input_series ?? []).map((s) => s.series).join('\n');
    return (
      check.alertname === 'EvergreenRedisFailover' &&
      (check.exp_alerts ?? []).length > 0 &&
      /redis_sentinel_master_status\{[^}]*master_address="127\.0\.0\.1:6379"/.test(series) &&
      /redis_sentinel_master_status\{[^}]*master_address="127\.0\.0\.1:6380"/.test(series)
    );
  });
  t.ok(simulations.length > 0, 'a promtool test simulates the failover and expects the alert (it passes above)');
});
