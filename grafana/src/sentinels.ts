import * as units from '@grafana/grafana-foundation-sdk/units';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { stateTimelinePanel, timeseriesPanel } from './panels.js';

/** The Sentinels: reachable, quorum, TILT, how many are healthy and whether they agree on the master. */
export function sentinelPanels(): cog.Builder<dashboard.Panel>[] {
  return [
    stateTimelinePanel({
      title: 'Sentinel quorum',
      description:
        'SENTINEL CKQUORUM as each Sentinel reports it: ' +
        'OK when enough Sentinels are reachable to authorize a failover.',
      unit: units.NoUnit,
      queries: [{ expr: 'redis_sentinel_master_ckquorum_status{job="sentinel"}', legend: '{{instance}}' }],
      states: [
        { value: 0, text: 'NO QUORUM', color: 'red' },
        { value: 1, text: 'OK', color: 'green' },
      ],
      missing: { value: -1, text: 'no data', color: 'transparent' },
      width: 8,
    }),
    stateTimelinePanel({
      title: 'Sentinels reachable',
      description: 'Whether the exporter reaches each Sentinel (redis_up, job="sentinel"). A failover needs two.',
      unit: units.NoUnit,
      queries: [{ expr: 'redis_up{job="sentinel"}', legend: '{{instance}}' }],
      states: [
        { value: 0, text: 'down', color: 'red' },
        { value: 1, text: 'up', color: 'green' },
      ],
      missing: { value: -1, text: 'no data', color: 'transparent' },
      width: 8,
    }),
    stateTimelinePanel({
      title: 'Sentinel TILT',
      description: 'TILT: a Sentinel that saw its clock jump (or was paused) stops acting for 30 s.',
      unit: units.NoUnit,
      queries: [{ expr: 'redis_sentinel_tilt{job="sentinel"}', legend: '{{instance}}' }],
      states: [
        { value: 0, text: 'normal', color: 'green' },
        { value: 1, text: 'TILT', color: 'red' },
      ],
      width: 8,
    }),
    timeseriesPanel({
      title: 'Healthy Sentinels',
      description: 'Sentinels each Sentinel sees as healthy for the monitored master, and how many it knows of.',
      unit: units.Short,
      queries: [
        { expr: 'redis_sentinel_master_ok_sentinels{job="sentinel"}', legend: '{{instance}} ok' },
        { expr: 'redis_sentinel_master_sentinels{job="sentinel"}', legend: '{{instance}} known' },
      ],
      min: 0,
    }),
    timeseriesPanel({
      title: 'Sentinels per master address',
      description:
        'How many Sentinels report each master address. ' +
        'One address with 3 is healthy; two addresses mean disagreement.',
      unit: units.Short,
      queries: [
        {
          expr: 'count by (master_address) (redis_sentinel_master_status{job="sentinel"})',
          legend: '{{master_address}}',
        },
      ],
      min: 0,
    }),
  ];
}
