import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

/** Every panel, target and query variable reads from the dashboard's `datasource` variable, never a fixed uid. */
export const DATASOURCE: dashboard.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The uid the provisioned Prometheus data source has (grafana/provisioning/datasources/prometheus.yml). */
export const PROVISIONED_DATASOURCE_UID = 'prometheus';

/** Tag shared by the Evergreen dashboards: the links bar lists every dashboard carrying it. */
const TAG = 'evergreen';

export interface DashboardOptions {
  uid: string;
  title: string;
  description: string;
  /** Scrape job whose targets the `instance` variable lists; no `instance` variable without it. */
  instanceJob?: string;
}

/** A dashboard with the Evergreen defaults: tag, time range, refresh, shared crosshair, links and variables. */
export function evergreenDashboard(options: DashboardOptions): dashboard.DashboardBuilder {
  const builder = new dashboard.DashboardBuilder(options.title)
    .uid(options.uid)
    .description(options.description)
    .tags([TAG])
    .timezone('browser')
    .time({ from: 'now-1h', to: 'now' })
    // Prometheus scrapes every 5 s, so a faster refresh would show nothing new.
    .refresh('10s')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(
      new dashboard.DashboardLinkBuilder('Evergreen')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags([TAG])
        .asDropdown(true)
        .includeVars(false)
        .keepTime(true),
    )
    .withVariable(datasourceVariable());
  if (options.instanceJob) builder.withVariable(instanceVariable(options.instanceJob));
  return builder;
}

function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource')
    .label('Data source')
    .type('prometheus')
    .current({ text: 'Prometheus', value: PROVISIONED_DATASOURCE_UID });
}

/** Multi-value `instance` of one job; "All" is `.+` so targets filter with `instance=~"$instance"`. */
function instanceVariable(job: string): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder('instance')
    .label('Instance')
    .description(`Targets of the "${job}" scrape job`)
    .datasource(DATASOURCE)
    .query(`label_values(up{job="${job}"}, instance)`)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.+')
    .current({ text: 'All', value: '$__all' });
}

/** A row header; the panels added after it belong to it. */
export function row(title: string): dashboard.RowBuilder {
  return new dashboard.RowBuilder(title);
}

/** Builds the dashboard and numbers its panels 1, 2, ... in order, so ids are stable and unique. */
export function finish(builder: dashboard.DashboardBuilder): dashboard.Dashboard {
  const built = builder.build();
  let id = 0;
  for (const panel of built.panels ?? []) {
    panel.id = ++id;
    if ('panels' in panel) for (const nested of panel.panels) nested.id = ++id;
  }
  return built;
}
