import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { DATASOURCE } from './common.js';

/** The fields Grafana's Prometheus data source reads from an annotation query, beyond the generic ones. */
export interface PrometheusAnnotation extends dashboard.AnnotationQuery {
  expr: string;
  step: string;
  titleFormat: string;
  textFormat: string;
  tagKeys: string;
  useValueForTime: boolean;
}

export interface AnnotationSpec {
  name: string;
  /** PromQL that returns a series while the event is on; fixed windows are fine here (no panel interval). */
  expr: string;
  color: string;
  title: string;
  text: string;
  /** Comma-separated labels that become the annotation's tags. */
  tagKeys: string;
}

/** A Prometheus annotation query; the SDK's builder has no Prometheus-specific fields, so they are added here. */
export function prometheusAnnotation(spec: AnnotationSpec): cog.Builder<PrometheusAnnotation> {
  const base = new dashboard.AnnotationQueryBuilder()
    .name(spec.name)
    .datasource(DATASOURCE)
    .enable(true)
    .iconColor(spec.color)
    .expr(spec.expr);
  return {
    build: () => ({
      ...base.build(),
      expr: spec.expr,
      // The expressions hold for a minute after the event, so 15 s steps cannot miss it.
      step: '15s',
      titleFormat: spec.title,
      textFormat: spec.text,
      tagKeys: spec.tagKeys,
      useValueForTime: false,
    }),
  };
}
