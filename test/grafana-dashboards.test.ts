// The dashboards as code (grafana/): committed JSON up to date, lint-clean, valid PromQL on catalog metrics,
// the five dashboards and the provisioning that loads them. No server needed.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parse as parseYaml } from 'yaml';
import { annotationQueriesOf, panelsOf, variablesOf, type DashboardJson } from '../grafana/dashboard-json.js';
import { dashboardExpressions, toPrometheusQuery } from '../grafana/expressions.js';
import { generateDashboards, REGENERATE_COMMAND, staleDashboardFiles } from '../grafana/generate.js';
import { isKnownMetric } from '../grafana/known-metrics.js';
import { formatProblem, lintDashboards, type LintRule } from '../grafana/lint.js';
import { metricNames, parsePromql } from '../grafana/promql.js';

const generated = await generateDashboards();
const dashboards = generated.map(({ json }) => JSON.parse(json) as DashboardJson);
const byUid = (uid: string) => dashboards.find((dashboard) => dashboard.uid === uid);

t.test('the committed dashboard JSON is what the code generates', async (t) => {
  const stale = await staleDashboardFiles();
  t.strictSame(stale, [], `stale: ${stale.join(', ') || 'none'}; regenerate with \`${REGENERATE_COMMAND}\``);
  for (const { json } of generated) t.ok(json.endsWith('}\n'), 'one trailing newline');
  t.equal(JSON.stringify(await generateDashboards()), JSON.stringify(generated), 'generation is deterministic');
});

t.test('generate.ts --check exits 0 on up-to-date files', async (t) => {
  const run = promisify(execFile);
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const { stderr } = await run(process.execPath, ['--import', 'tsx', 'grafana/generate.ts', '--check'], { cwd });
  t.equal(stderr, '');
});

t.test('the five dashboards exist with stable uids', async (t) => {
  t.strictSame(
    dashboards.map((dashboard) => dashboard.uid),
    ['evergreen-overview', 'evergreen-service', 'evergreen-redis-ha', 'evergreen-business', 'evergreen-nginx'],
  );
  t.strictSame(
    generated.map(({ file }) => file),
    ['overview', 'service', 'redis-ha', 'business', 'nginx'].map((name) => `grafana/dashboards/${name}.json`),
  );
  for (const uid of ['evergreen-service', 'evergreen-redis-ha', 'evergreen-business']) {
    const instance = variablesOf(byUid(uid) ?? {}).find((variable) => variable.name === 'instance');
    t.ok(instance, `${uid} has an instance variable`);
    t.match(instance, { type: 'query', multi: true, includeAll: true }, `${uid}: instance is multi with All`);
  }
});

t.test('Redis HA shows failovers as annotations', async (t) => {
  const annotations = annotationQueriesOf(byUid('evergreen-redis-ha') ?? {});
  t.ok(
    annotations.some((annotation) => /redis_sentinel_master_status/.test(annotation.expr ?? '')),
    'Sentinel view',
  );
  t.ok(
    annotations.some((annotation) => /evergreen_redis_master_switches_total/.test(annotation.expr ?? '')),
    'API view',
  );
  for (const annotation of annotations) t.match(annotation, { enable: true, datasource: { uid: '${datasource}' } });
});

t.test('the linter finds no problem in any dashboard', async (t) => {
  t.strictSame(lintDashboards(dashboards).map(formatProblem), []);
});

t.test('the linter catches each kind of problem on a broken copy', async (t) => {
  const broken = structuredClone(byUid('evergreen-service') ?? {});
  broken.templating = { list: variablesOf(broken).filter((variable) => variable.name !== 'datasource') };
  const [first, second, third, fourth, fifth, sixth] = panelsOf(broken);
  if (!first || !second || !third || !fourth || !fifth || !sixth) throw new Error('the service dashboard has panels');
  first.title = '';
  second.description = '';
  third.fieldConfig = { defaults: {} };
  fourth.datasource = { type: 'prometheus', uid: 'some-fixed-uid' };
  fifth.id = sixth.id;
  const [rateTarget, emptyTarget, instanceTarget, syntaxTarget] = panelsOf(broken).slice(6);
  rateTarget?.targets?.forEach((target) => (target.expr = target.expr?.replaceAll('$__rate_interval', '5m')));
  emptyTarget?.targets?.forEach((target) => (target.expr = ''));
  instanceTarget?.targets?.forEach((target) => (target.expr = 'up{job="api",instance="$instance"}'));
  syntaxTarget?.targets?.forEach((target) => (target.expr = 'sum(rate(up[$__rate_interval])'));
  const noTargets = { ...structuredClone(first), id: 999, title: 'No targets', targets: [] };
  broken.panels?.push(noTargets);

  const problems = lintDashboards([broken, { ...structuredClone(broken), panels: [] }, { title: 'no uid' }]);
  const rules = new Set(problems.map((problem) => problem.rule));
  const expected: LintRule[] = [
    'dashboard-uid-rule',
    'template-datasource-rule',
    'template-instance-rule',
    'panel-datasource-rule',
    'panel-title-description-rule',
    'panel-units-rule',
    'panel-no-targets-rule',
    'panel-id-rule',
    'target-promql-rule',
    'target-rate-interval-rule',
  ];
  for (const rule of expected) t.ok(rules.has(rule), `${rule} is reported`);
  const messages = problems.map(formatProblem).join('\n');
  t.match(messages, /panel has no title/);
  t.match(messages, /panel has no description/);
  t.match(messages, /rate\(\) over \[5m\], not \[\$__rate_interval\]/);
  t.match(messages, /has no expression/);
  t.match(messages, /syntax error/);
  t.match(messages, /duplicate panel id/);
  t.match(messages, /uid used twice/);
});

t.test('every dashboard expression is valid PromQL once the variables are replaced', async (t) => {
  const expressions = dashboardExpressions();
  t.ok(expressions.length > 50, `${expressions.length} expressions`);
  for (const { dashboard, panel, expr, promql } of expressions) {
    t.equal(parsePromql(promql), undefined, `${dashboard} / ${panel}: ${expr}`);
    t.notMatch(promql, /\$|\[\[/, `${dashboard} / ${panel}: no variable left`);
  }
  t.strictSame(
    dashboardExpressions(dashboards).map(({ promql }) => promql),
    expressions.map(({ promql }) => promql),
    'the committed files hold the same expressions',
  );
});

t.test('a broken expression is reported', async (t) => {
  t.match(parsePromql('sum(rate(up[1m])'), /syntax error at character 17/);
  t.match(parsePromql('up{job="api"} =='), /unexpected end/);
  t.match(parsePromql('rate(up[$__rate_interval])'), /syntax error/, 'Grafana variables must be replaced first');
  t.equal(parsePromql('   '), 'empty expression');
  t.equal(parsePromql('sum by (le) (rate(up[1m]))'), undefined);
});

t.test('Grafana variables become values Prometheus accepts', async (t) => {
  t.equal(
    toPrometheusQuery('rate(x{instance=~"$instance"}[$__rate_interval]) + increase(y{a=~"${a:regex}"}[$__range])'),
    'rate(x{instance=~".+"}[1m]) + increase(y{a=~".+"}[5m])',
  );
  t.equal(toPrometheusQuery('x{a=~"[[a]]"}[$__interval]'), 'x{a=~".+"}[1m]');
  t.equal(toPrometheusQuery('x[$__unknown]'), 'x[$__unknown]', 'an unknown built-in stays and fails to parse');
});

t.test('every metric a dashboard uses is in the catalog', async (t) => {
  for (const { dashboard, panel, promql } of dashboardExpressions()) {
    const unknown = metricNames(promql).filter((name) => !isKnownMetric(name));
    t.strictSame(unknown, [], `${dashboard} / ${panel}`);
  }
  t.strictSame(metricNames('sum(rate(evergreen_purchase_total[1m])) / on() up'), ['evergreen_purchase_total', 'up']);
  t.notOk(isKnownMetric('evergreen_purchase_total'), 'a misspelt metric is not known');
  t.ok(isKnownMetric('prometheus_rule_evaluation_failures_total'), "Prometheus' own metrics are known by prefix");
});

t.test('provisioning loads the dashboards into the Evergreen folder from the default Prometheus', async (t) => {
  const read = async (file: string) =>
    parseYaml(await readFile(new URL(`../grafana/provisioning/${file}`, import.meta.url), 'utf8'));
  const { datasources } = await read('datasources/prometheus.yml');
  t.match(datasources, [
    {
      uid: 'prometheus',
      type: 'prometheus',
      url: 'http://prometheus:9090',
      isDefault: true,
      jsonData: { timeInterval: '5s' },
    },
  ]);
  const { providers } = await read('dashboards/evergreen.yml');
  t.match(providers, [
    { type: 'file', folder: 'Evergreen', options: { path: '/var/lib/grafana/dashboards/evergreen' } },
  ]);
  for (const dashboard of dashboards) {
    const datasource = variablesOf(dashboard).find((variable) => variable.name === 'datasource');
    t.match(datasource, { current: { value: 'prometheus' } }, `${dashboard.uid} starts on the provisioned uid`);
  }
});
