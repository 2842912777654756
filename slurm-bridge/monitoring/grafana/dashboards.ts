import { cadvisorDashboard } from './cadvisor-dashboard.js';
import type { Dashboard } from './dashboard-model.js';
import { dcgmDashboard } from './dcgm-dashboard.js';
import { inferenceDashboard } from './inference-dashboard.js';
import { clientNodesDashboard, ollamaNodesDashboard } from './node-exporter-dashboards.js';

/** Every dashboard we ship, by file name (the JSON in grafana/dashboards/ is generated from these). */
export function shippedDashboards(): Record<string, Dashboard> {
  return {
    'inference.json': inferenceDashboard(),
    'nodes-ollama.json': ollamaNodesDashboard(),
    'nodes-client.json': clientNodesDashboard(),
    'dcgm.json': dcgmDashboard(),
    'cadvisor.json': cadvisorDashboard(),
  };
}

export function dashboardJson(dashboard: Dashboard): string {
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
