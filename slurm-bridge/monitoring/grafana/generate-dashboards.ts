import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboardJson, shippedDashboards } from './dashboards.js';

// Writes the committed dashboard JSON (for people who import them by hand or read them in review).
// Run: npx tsx slurm-bridge/monitoring/grafana/generate-dashboards.ts; a unit test fails when they are stale.
const folder = join(dirname(fileURLToPath(import.meta.url)), 'dashboards');
for (const [file, dashboard] of Object.entries(shippedDashboards())) {
  writeFileSync(join(folder, file), dashboardJson(dashboard));
  console.log(`wrote ${join(folder, file)}`);
}
