import * as units from '@grafana/grafana-foundation-sdk/units';
import { prometheusAnnotation } from './annotations.js';
import { evergreenDashboard, finish, row } from './common.js';
import { stateTimelinePanel, timeseriesPanel, type State } from './panels.js';
import { REDIS, redisLoadPanels, redisPersistencePanels } from './redis-nodes.js';
import { sentinelPanels } from './sentinels.js';

const SENTINEL_STATUS = 'redis_sentinel_master_status{job="sentinel"}';

/** A master address the Sentinels report now that none reported a minute ago, while they did report one. */
export const SENTINEL_FAILOVER_EXPR =
  `count by (master_address) (${SENTINEL_STATUS}) ` +
  `unless count by (master_address) (${SENTINEL_STATUS} offset 1m) ` +
  `and on () (count(${SENTINEL_STATUS} offset 1m) > 0)`;

/** An API instance that found the master at a new address in the last minute. */
export const API_MASTER_SWITCH_EXPR =
  'sum by (instance) (increase(evergreen_redis_master_switches_total{job="api"}[1m])) > 0';

// 2 for the master, 1 for a replica, 0 for a node scraped but not answering (its INFO is gone).
const ROLE_EXPR =
  `max by (instance) (redis_instance_info{${REDIS},role="master"}) * 2 ` +
  `or max by (instance) (redis_instance_info{${REDIS},role="slave"}) ` +
  `or max by (instance) (up{${REDIS}}) * 0`;

const ROLES: State[] = [
  { value: 0, text: 'down', color: 'red' },
  { value: 1, text: 'replica', color: 'green' },
  { value: 2, text: 'master', color: 'blue' },
];

// The master's offset as a number, so that each replica's offset can be taken from it.
const MASTER_OFFSET =
  'scalar(max(redis_master_repl_offset{job="redis"} ' +
  'and on (instance) redis_instance_info{job="redis",role="master"}))';

/** Redis high availability: who is master, how far replicas lag, the nodes' health, the Sentinels' view. */
export function redisHaDashboard() {
  const builder = evergreenDashboard({
    uid: 'evergreen-redis-ha',
    title: 'Evergreen / Redis HA',
    description: 'Redis master and replicas under Sentinel: roles, replication, load, persistence, quorum, failovers.',
    instanceJob: 'redis',
  })
    .annotation(
      prometheusAnnotation({
        name: 'Failovers (Sentinel)',
        expr: SENTINEL_FAILOVER_EXPR,
        color: 'red',
        title: 'Failover: new master {{master_address}}',
        text: 'The Sentinels report a master address they did not report a minute before.',
        tagKeys: 'master_address',
      }),
    )
    .annotation(
      prometheusAnnotation({
        name: 'Master switches (API)',
        expr: API_MASTER_SWITCH_EXPR,
        color: 'orange',
        title: '{{instance}} switched to a new master',
        text: 'evergreen_redis_master_switches_total went up on this API instance in the last minute.',
        tagKeys: 'instance',
      }),
    )
    .withRow(row('Roles'))
    .withPanel(
      stateTimelinePanel({
        title: 'Role of every node',
        description:
          'Each node over time: master, replica, or down (scraped but not answering). ' +
          'A failover shows as roles swapping.',
        unit: units.NoUnit,
        queries: [{ expr: ROLE_EXPR, legend: '{{instance}}' }],
        states: ROLES,
        missing: { value: -1, text: 'no data', color: 'transparent' },
        width: 24,
      }),
    )
    .withPanel(
      stateTimelinePanel({
        title: "Sentinels' view of the master",
        description: 'The master address each Sentinel reports, with its status. All three should agree.',
        unit: units.NoUnit,
        queries: [{ expr: `${SENTINEL_STATUS} == 1`, legend: '{{instance}} → {{master_address}} ({{master_status}})' }],
        states: [{ value: 1, text: 'master', color: 'blue' }],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Connected replicas',
        description:
          "Replicas connected to each node (only the master has any), and the Sentinels' count of healthy ones.",
        unit: units.Short,
        queries: [
          { expr: `redis_connected_slaves{${REDIS}}`, legend: '{{instance}}' },
          { expr: 'max(redis_sentinel_master_ok_slaves{job="sentinel"})', legend: 'healthy (Sentinels)' },
        ],
        min: 0,
      }),
    )
    .withRow(row('Replication'))
    .withPanel(
      timeseriesPanel({
        title: 'Replication lag (bytes)',
        description:
          "Master offset minus each replica's offset, and the master's own view of each replica. " +
          'A few bytes between scrapes is normal; growth means a replica falls behind.',
        unit: units.BytesIEC,
        queries: [
          { expr: `${MASTER_OFFSET} - redis_slave_repl_offset{${REDIS}}`, legend: '{{instance}}' },
          {
            expr:
              'redis_master_repl_offset{job="redis"} ' +
              '- on (instance) group_right () redis_connected_slave_offset_bytes{job="redis"}',
            legend: "master's view {{slave_ip}}:{{slave_port}}",
          },
        ],
      }),
    )
    .withPanel(
      timeseriesPanel({
        title: 'Replication lag (seconds)',
        description:
          "Seconds since the master heard each replica's last ACK, and since each replica last heard from its master.",
        unit: units.Seconds,
        queries: [
          {
            expr: 'redis_connected_slave_lag_seconds{job="redis"}',
            legend: "master's view {{slave_ip}}:{{slave_port}}",
          },
          { expr: `redis_master_last_io_seconds_ago{${REDIS}}`, legend: '{{instance}} last I/O from master' },
        ],
        min: 0,
      }),
    )
    .withPanel(
      stateTimelinePanel({
        title: 'Replica link to master',
        description: "Whether each replica's link to its master is up (redis_master_link_up; masters have none).",
        unit: units.NoUnit,
        queries: [{ expr: `redis_master_link_up{${REDIS}}`, legend: '{{instance}} → {{master_host}}:{{master_port}}' }],
        states: [
          { value: 0, text: 'down', color: 'red' },
          { value: 1, text: 'up', color: 'green' },
        ],
        width: 24,
      }),
    )
    .withRow(row('Load'));
  for (const panel of redisLoadPanels()) builder.withPanel(panel);
  builder.withRow(row('Persistence'));
  for (const panel of redisPersistencePanels()) builder.withPanel(panel);
  builder.withRow(row('Sentinels'));
  for (const panel of sentinelPanels()) builder.withPanel(panel);
  return finish(builder);
}
