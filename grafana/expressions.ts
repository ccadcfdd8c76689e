// Every PromQL expression of the dashboards, with Grafana's variables replaced so Prometheus itself can run it.
import {
  annotationQueriesOf,
  codeDashboards,
  panelsOf,
  variablesOf,
  type DashboardJson,
  type VariableJson,
} from './dashboard-json.js';

export interface DashboardExpression {
  /** The dashboard's uid, e.g. `evergreen-overview`. */
  dashboard: string;
  /** The panel's title, `annotation: <name>` or `variable: <name>`. */
  panel: string;
  /** The expression as the dashboard holds it, Grafana variables and all. */
  expr: string;
  /** The same with the variables replaced: an expression Prometheus accepts. */
  promql: string;
}

/** Values for Grafana's built-in variables; a dashboard variable (e.g. `$instance`) becomes `.+` instead. */
export const BUILTIN_VARIABLE_VALUES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '1m',
  __interval_ms: '60000',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000',
};

// $name, ${name}, ${name:format}, [[name]] and [[name:format]].
const VARIABLE = /\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g;

/**
 * `expr` with Grafana's variables replaced: built-ins by `values` (default BUILTIN_VARIABLE_VALUES), any other by
 * `.+`, which matches every value where the dashboard uses it as `label=~"$name"`. Unknown built-ins stay, so the
 * result fails to parse and says so.
 */
export function toPrometheusQuery(expr: string, values: Record<string, string> = {}): string {
  const builtins = { ...BUILTIN_VARIABLE_VALUES, ...values };
  return expr.replace(VARIABLE, (match, braced?: string, bracketed?: string, plain?: string) => {
    const name = braced ?? bracketed ?? plain ?? '';
    if (name.startsWith('__')) return builtins[name] ?? match;
    return '.+';
  });
}

// `label_values(selector, label)` is Grafana's, not PromQL: its selector is what Prometheus is asked.
function variableExpression(dashboard: string, variable: VariableJson): DashboardExpression[] {
  const query = variable.query;
  const expr = typeof query === 'string' ? query : (query as { query?: unknown } | undefined)?.query;
  const selector = typeof expr === 'string' ? /^\s*label_values\((.+),\s*\w+\s*\)\s*$/.exec(expr)?.[1] : undefined;
  if (variable.type !== 'query' || typeof expr !== 'string' || !selector) return [];
  return [{ dashboard, panel: `variable: ${variable.name ?? ''}`, expr, promql: toPrometheusQuery(selector) }];
}

/** Every expression of the dashboards (default: the generated ones): panel targets, annotations, query variables. */
export function dashboardExpressions(dashboards: DashboardJson[] = codeDashboards()): DashboardExpression[] {
  return dashboards.flatMap((dashboard) => {
    const uid = dashboard.uid ?? '';
    const expression = (panel: string, expr = '') => ({ dashboard: uid, panel, expr, promql: toPrometheusQuery(expr) });
    return [
      ...panelsOf(dashboard).flatMap((panel) =>
        (panel.targets ?? []).map((target) => expression(panel.title ?? '', target.expr)),
      ),
      ...annotationQueriesOf(dashboard).map((annotation) =>
        expression(`annotation: ${annotation.name ?? ''}`, annotation.expr),
      ),
      ...variablesOf(dashboard).flatMap((variable) => variableExpression(uid, variable)),
    ];
  });
}
