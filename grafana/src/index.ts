import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { businessDashboard } from './business.js';
import { nginxDashboard } from './nginx.js';
import { overviewDashboard } from './overview.js';
import { redisHaDashboard } from './redis-ha.js';
import { serviceDashboard } from './service.js';

/** Every Evergreen dashboard, by the name of its JSON file in grafana/dashboards/. */
export const DASHBOARDS: { name: string; build: () => dashboard.Dashboard }[] = [
  { name: 'overview', build: overviewDashboard },
  { name: 'service', build: serviceDashboard },
  { name: 'redis-ha', build: redisHaDashboard },
  { name: 'business', build: businessDashboard },
  { name: 'nginx', build: nginxDashboard },
];
