// A dashboard linter after Grafana's dashboard-linter rules (github.com/grafana/dashboard-linter), for Prometheus.
import {
  annotationQueriesOf,
  panelsAndRowsOf,
  panelsOf,
  variablesOf,
  type DashboardJson,
  type DatasourceRefJson,
  type PanelJson,
} from './dashboard-json.js';
import { toPrometheusQuery } from './expressions.js';
import { parsePromql, rangeFunctionCalls } from './promql.js';

export type LintRule =
  | 'dashboard-uid-rule'
  | 'template-datasource-rule'
  | 'template-instance-rule'
  | 'panel-datasource-rule'
  | 'panel-title-description-rule'
  | 'panel-units-rule'
  | 'panel-no-targets-rule'
  | 'panel-id-rule'
  | 'target-promql-rule'
  | 'target-rate-interval-rule';

export interface LintProblem {
  dashboard: string;
  /** The panel's title (or `#id`), `annotation: <name>` or `variable: <name>`; absent for the whole dashboard. */
  panel?: string;
  rule: LintRule;
  message: string;
}

const DATASOURCE_VARIABLE = 'datasource';
const DATASOURCE_REFERENCES = ['${datasource}', '$datasource'];
// Panels that show no query results, so need neither data source, unit nor targets.
const PANELS_WITHOUT_DATA = new Set(['row', 'text', 'news', 'dashlist', 'annolist']);
// Stands for $__rate_interval while checking ranges, so that a literal `1m` cannot pass for it.
const RATE_INTERVAL_MARK = '424242424242ms';

const usesDatasourceVariable = (ref: DatasourceRefJson | undefined) =>
  ref?.uid !== undefined && DATASOURCE_REFERENCES.includes(ref.uid);
const panelName = (panel: PanelJson) => panel.title || `#${panel.id ?? '?'}`;

/** Problems of one dashboard; an empty list when it passes every rule. */
export function lintDashboard(dashboard: DashboardJson): LintProblem[] {
  const uid = dashboard.uid ?? '';
  const problems: LintProblem[] = [];
  const report = (rule: LintRule, message: string, panel?: string) =>
    problems.push({
      dashboard: uid || dashboard.title || '?',
      ...(panel === undefined ? {} : { panel }),
      rule,
      message,
    });

  if (!uid) report('dashboard-uid-rule', 'the dashboard has no uid');
  lintVariables(dashboard, report);
  const ids = new Set<number>();
  for (const panel of panelsAndRowsOf(dashboard)) {
    if (panel.id === undefined) report('panel-id-rule', 'panel has no id', panelName(panel));
    else if (ids.has(panel.id)) report('panel-id-rule', `duplicate panel id ${panel.id}`, panelName(panel));
    else ids.add(panel.id);
  }
  for (const panel of panelsOf(dashboard)) lintPanel(panel, (rule, message) => report(rule, message, panelName(panel)));
  for (const annotation of annotationQueriesOf(dashboard)) {
    if (!usesDatasourceVariable(annotation.datasource)) {
      report('panel-datasource-rule', 'annotation does not use ${datasource}', `annotation: ${annotation.name ?? ''}`);
    }
  }
  return problems;
}

type Report = (rule: LintRule, message: string, panel?: string) => void;

function lintVariables(dashboard: DashboardJson, report: Report): void {
  const variables = variablesOf(dashboard);
  const datasource = variables.find((variable) => variable.name === DATASOURCE_VARIABLE);
  if (datasource?.type !== 'datasource' || datasource.query !== 'prometheus') {
    report('template-datasource-rule', 'no `datasource` template variable of type datasource for prometheus');
  }
  for (const variable of variables.filter((v) => v.type === 'query')) {
    if (!usesDatasourceVariable(variable.datasource)) {
      report('panel-datasource-rule', 'query variable does not use ${datasource}', `variable: ${variable.name ?? ''}`);
    }
  }
  const usesInstance = panelsOf(dashboard).some((panel) =>
    (panel.targets ?? []).some((target) => /\$\{?instance\b/.test(target.expr ?? '')),
  );
  if (usesInstance && !variables.some((variable) => variable.name === 'instance')) {
    report('template-instance-rule', 'targets use $instance but there is no `instance` variable');
  }
}

function lintPanel(panel: PanelJson, report: (rule: LintRule, message: string) => void): void {
  if (!panel.title?.trim()) report('panel-title-description-rule', 'panel has no title');
  if (!panel.description?.trim()) report('panel-title-description-rule', 'panel has no description');
  if (PANELS_WITHOUT_DATA.has(panel.type ?? '')) return;
  if (!panel.fieldConfig?.defaults?.unit?.trim()) report('panel-units-rule', 'panel has no unit');
  if (!usesDatasourceVariable(panel.datasource)) report('panel-datasource-rule', 'panel does not use ${datasource}');
  const targets = panel.targets ?? [];
  if (targets.length === 0) report('panel-no-targets-rule', 'panel has no target');
  for (const target of targets) {
    const where = `target ${target.refId ?? '?'}`;
    if (target.datasource && !usesDatasourceVariable(target.datasource)) {
      report('panel-datasource-rule', `${where} does not use \${datasource}`);
    }
    const expr = target.expr ?? '';
    if (!expr.trim()) {
      report('target-promql-rule', `${where} has no expression`);
      continue;
    }
    const error = parsePromql(toPrometheusQuery(expr));
    if (error) report('target-promql-rule', `${where}: ${error}`);
    // A $instance anywhere but in `instance=~"$instance"` breaks with several instances or "All" (.+).
    const uses = expr.match(/\$\{?instance\b/g)?.length ?? 0;
    const matchers = expr.match(/instance=~"\$\{?instance\}?"/g)?.length ?? 0;
    if (uses !== matchers) report('template-instance-rule', `${where} uses $instance other than instance=~"$instance"`);
    for (const call of rangeFunctionCalls(toPrometheusQuery(expr, { __rate_interval: RATE_INTERVAL_MARK }))) {
      if (call.range !== RATE_INTERVAL_MARK) {
        report(
          'target-rate-interval-rule',
          `${where}: ${call.fn}() over [${call.range ?? '?'}], not [$__rate_interval]`,
        );
      }
    }
  }
}

/** Problems of all the dashboards, each linted alone, plus uids shared by two of them. */
export function lintDashboards(dashboards: DashboardJson[]): LintProblem[] {
  const problems = dashboards.flatMap(lintDashboard);
  const seen = new Set<string>();
  for (const { uid } of dashboards) {
    if (uid && seen.has(uid)) problems.push({ dashboard: uid, rule: 'dashboard-uid-rule', message: 'uid used twice' });
    if (uid) seen.add(uid);
  }
  return problems;
}

export function formatProblem(problem: LintProblem): string {
  return `${problem.dashboard}${problem.panel ? ` / ${problem.panel}` : ''}: ${problem.message} (${problem.rule})`;
}
