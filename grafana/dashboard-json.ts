// The parts of Grafana's dashboard JSON the linter and the expression list read. Plain JSON, as Grafana gets it,
// so the same code checks generated dashboards, committed files and deliberately broken copies.
import { DASHBOARDS } from './src/index.js';

export interface DatasourceRefJson {
  type?: string;
  uid?: string;
}

export interface TargetJson {
  refId?: string;
  expr?: string;
  datasource?: DatasourceRefJson;
}

export interface PanelJson {
  id?: number;
  type?: string;
  title?: string;
  description?: string;
  datasource?: DatasourceRefJson;
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: TargetJson[];
  /** A collapsed row keeps its panels here. */
  panels?: PanelJson[];
}

export interface VariableJson {
  type?: string;
  name?: string;
  query?: unknown;
  datasource?: DatasourceRefJson;
}

export interface AnnotationJson {
  name?: string;
  expr?: string;
  builtIn?: number;
  datasource?: DatasourceRefJson;
}

export interface DashboardJson {
  uid?: string;
  title?: string;
  panels?: PanelJson[];
  templating?: { list?: VariableJson[] };
  annotations?: { list?: AnnotationJson[] };
}

/** The dashboards the code describes, as the JSON Grafana loads (no file needed). */
export function codeDashboards(): DashboardJson[] {
  return DASHBOARDS.map(({ build }) => JSON.parse(JSON.stringify(build())) as DashboardJson);
}

/** Every panel but row headers, including those inside collapsed rows. */
export function panelsOf(dashboard: DashboardJson): PanelJson[] {
  return (dashboard.panels ?? []).flatMap((panel) => (panel.type === 'row' ? (panel.panels ?? []) : [panel]));
}

/** Every panel and row header, including panels inside collapsed rows: all that needs an id. */
export function panelsAndRowsOf(dashboard: DashboardJson): PanelJson[] {
  return (dashboard.panels ?? []).flatMap((panel) => [panel, ...(panel.type === 'row' ? (panel.panels ?? []) : [])]);
}

export function variablesOf(dashboard: DashboardJson): VariableJson[] {
  return dashboard.templating?.list ?? [];
}

/** Annotation queries on a data source; Grafana's built-in "Annotations & Alerts" is left out. */
export function annotationQueriesOf(dashboard: DashboardJson): AnnotationJson[] {
  return (dashboard.annotations?.list ?? []).filter((annotation) => !annotation.builtIn);
}
