import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DATASOURCE_UID, TPS_THRESHOLDS } from './dashboard-model.js';
import { shippedDashboards } from './dashboards.js';

const folder = join(dirname(fileURLToPath(import.meta.url)), 'dashboards');

interface JsonPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr?: string; refId?: string }[];
  fieldConfig?: { defaults?: { thresholds?: { steps?: unknown[] } } };
}
interface JsonDashboard {
  uid: string;
  title: string;
  panels: JsonPanel[];
  templating: { list: { name: string; query: { query: string } }[] };
}

// The committed files are what reviewers and hand-importers see; they are tested, not the builder alone.
const committed: [string, JsonDashboard][] = readdirSync(folder)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => [file, JSON.parse(readFileSync(join(folder, file), 'utf8')) as JsonDashboard]);

/** Every `datasource` value anywhere in a dashboard, however deep. */
function datasourceRefs(node: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const item of node) datasourceRefs(item, found);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'datasource') found.push(value);
      datasourceRefs(value, found);
    }
  }
  return found;
}

describe('shipped Grafana dashboards', () => {
  it('are the five the issue names, committed as JSON', () => {
    expect(committed.map(([file]) => file)).toEqual([
      'cadvisor.json',
      'dcgm.json',
      'inference.json',
      'nodes-client.json',
      'nodes-ollama.json',
    ]);
  });

  it('are up to date with the builder (run generate-dashboards.ts when this fails)', () => {
    const generated = shippedDashboards();
    for (const [file, dashboard] of committed)
      expect(dashboard).toEqual(JSON.parse(JSON.stringify(generated[file])));
  });

  it('have unique uids and titles', () => {
    expect(new Set(committed.map(([, d]) => d.uid)).size).toBe(committed.length);
    expect(new Set(committed.map(([, d]) => d.title)).size).toBe(committed.length);
  });

  it.each(committed)('%s references only the provisioned datasource uid', (_file, dashboard) => {
    const refs = datasourceRefs(dashboard);
    expect(refs.length).toBeGreaterThan(dashboard.panels.length);
    for (const ref of refs) expect(ref).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
    const text = JSON.stringify(dashboard);
    expect(text).not.toContain('__inputs');
    expect(text).not.toContain('${DS_');
  });

  it.each(committed)('%s: every panel has at least one non-empty PromQL target', (_file, dashboard) => {
    expect(dashboard.panels.length).toBeGreaterThan(3);
    for (const panel of dashboard.panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr?.trim(), panel.title).toBeTruthy();
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
    }
  });

  it.each(committed)(
    '%s: panels have unique ids and fit the 24-column grid without overlap',
    (_file, dashboard) => {
      expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
      const cells = new Set<string>();
      for (const { gridPos } of dashboard.panels) {
        expect(gridPos.x + gridPos.w).toBeLessThanOrEqual(24);
        for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++)
          for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
            expect(cells.has(`${x},${y}`)).toBe(false);
            cells.add(`${x},${y}`);
          }
      }
    },
  );

  it('the tokens-per-second dashboard has a benchmark selector used by every query', () => {
    const inference = committed.find(([file]) => file === 'inference.json')?.[1];
    expect(inference?.templating.list.map((v) => v.name)).toContain('benchmark');
    for (const panel of inference?.panels ?? [])
      for (const target of panel.targets ?? []) expect(target.expr).toContain('benchmark=~"$benchmark"');
  });

  it('colours TPS red below 30, yellow from 30 and green from 80', () => {
    expect(TPS_THRESHOLDS).toEqual([
      { color: 'red', value: null },
      { color: 'yellow', value: 30 },
      { color: 'green', value: 80 },
    ]);
    const inference = committed.find(([file]) => file === 'inference.json')?.[1];
    const tpsPanels = (inference?.panels ?? []).filter((p) =>
      p.targets?.some((t) => /tokens_per_second\{/.test(t.expr ?? '')),
    );
    expect(tpsPanels.length).toBeGreaterThanOrEqual(3);
    for (const panel of tpsPanels)
      expect(panel.fieldConfig?.defaults?.thresholds?.steps, panel.title).toEqual(TPS_THRESHOLDS);
  });

  it('the tokens-per-second dashboard shows TTFT, ITL and e2e percentiles, request rate and errors', () => {
    const inference = committed.find(([file]) => file === 'inference.json')?.[1];
    const exprs = (inference?.panels ?? []).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    for (const histogram of ['ibo_client_ttft_seconds', 'ibo_client_itl_seconds', 'ibo_client_e2e_seconds'])
      for (const q of ['0.5', '0.9', '0.95', '0.99'])
        expect(exprs).toContain(
          `histogram_quantile(${q}, sum by (le, model) (${histogram}_bucket{benchmark=~"$benchmark", run=~"$run"}))`,
        );
    expect(exprs.some((e) => e.includes('rate(ibo_client_requests_total'))).toBe(true);
    expect(exprs.some((e) => e.includes('outcome!="success"'))).toBe(true);
  });
});
