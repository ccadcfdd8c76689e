import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DATASOURCE } from './common.js';

export interface Query {
  expr: string;
  /** Legend template, e.g. `{{instance}}`; Grafana's automatic legend without it. */
  legend?: string;
}

/** What every panel must say: a title, what it shows and how to read it, and the unit of its values. */
export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Grid columns out of 24 (default 12). */
  width?: number;
  /** Grid rows (default 8). */
  height?: number;
}

/** A named state of a state timeline or stat: the value, its text and its colour. */
export interface State {
  value: number;
  text: string;
  color: string;
}

// The builder methods the three panel kinds share, so one function can apply a PanelSpec to any of them.
interface CommonPanelBuilder<B> {
  title(title: string): B;
  description(description: string): B;
  unit(unit: string): B;
  datasource(datasource: dashboard.DataSourceRef): B;
  span(width: number): B;
  height(height: number): B;
  withTarget(target: cog.Builder<cog.Dataquery>): B;
}

function target(query: Query, index: number): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(DATASOURCE)
    .refId(String.fromCharCode(65 + index))
    .expr(query.expr)
    .legendFormat(query.legend ?? '__auto')
    .editorMode(prometheus.QueryEditorMode.Code)
    .range();
}

function applySpec<B extends CommonPanelBuilder<B>>(builder: B, spec: PanelSpec): B {
  builder
    .title(spec.title)
    .description(spec.description)
    .unit(spec.unit)
    .datasource(DATASOURCE)
    .span(spec.width ?? 12)
    .height(spec.height ?? 8);
  spec.queries.forEach((query, index) => builder.withTarget(target(query, index)));
  return builder;
}

/** Value-to-text mappings for states, plus the text shown when a series has no value (`missing`). */
export function stateMappings(states: State[], missing?: State): dashboard.ValueMapping[] {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  states.forEach((state, index) => (options[String(state.value)] = { text: state.text, color: state.color, index }));
  const mappings: dashboard.ValueMapping[] = [{ type: dashboard.MappingType.ValueToText, options }];
  if (missing) {
    mappings.push({
      type: dashboard.MappingType.SpecialValue,
      options: {
        match: dashboard.SpecialValueMatch.NullAndNan,
        result: { text: missing.text, color: missing.color, index: states.length },
      },
    });
  }
  return mappings;
}

/** Threshold steps from a base colour and `[value, colour]` pairs in ascending order. */
export function thresholds(base: string, steps: [number, string][] = []): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: base }, ...steps.map(([value, color]) => ({ value, color }))]);
}

export interface TimeseriesSpec extends PanelSpec {
  /** Lowest value of the axis; rates, counts and durations start at 0. */
  min?: number;
  stacked?: boolean;
}

export function timeseriesPanel(spec: TimeseriesSpec): timeseries.PanelBuilder {
  const builder = applySpec(new timeseries.PanelBuilder(), spec)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List))
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    );
  if (spec.min !== undefined) builder.min(spec.min);
  if (spec.stacked) builder.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return builder;
}

export interface StatSpec extends PanelSpec {
  /** Colour by value: base colour and ascending `[value, colour]` steps (default: all green). */
  colors?: [string, ...[number, string][]];
  states?: State[];
  /** Text when the query returns nothing, e.g. "no traffic". */
  noValue?: string;
  decimals?: number;
}

export function statPanel(spec: StatSpec): stat.PanelBuilder {
  const [base, ...steps] = spec.colors ?? ['green'];
  const builder = applySpec(new stat.PanelBuilder(), { width: 4, height: 4, ...spec })
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Background)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(thresholds(base, steps));
  if (spec.states) builder.mappings(stateMappings(spec.states));
  if (spec.noValue) builder.noValue(spec.noValue);
  if (spec.decimals !== undefined) builder.decimals(spec.decimals);
  return builder;
}

export interface StateTimelineSpec extends PanelSpec {
  states: State[];
  /** How a gap (no sample) reads, e.g. "down" for a node that stopped reporting. */
  missing?: State;
}

export function stateTimelinePanel(spec: StateTimelineSpec): statetimeline.PanelBuilder {
  return applySpec(new statetimeline.PanelBuilder(), spec)
    .mappings(stateMappings(spec.states, spec.missing))
    .thresholds(thresholds('text'))
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .mergeValues(true)
    .showValue(common.VisibilityMode.Auto)
    .fillOpacity(80)
    .lineWidth(0);
}
