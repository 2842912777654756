/**
 * A small, typed subset of Grafana's dashboard JSON (schemaVersion 39, Grafana 10/11), just enough for the
 * dashboards we ship. Every panel, target and variable points at the ONE provisioned datasource by uid, so
 * the dashboards work offline and never ask for an `__inputs` datasource on import.
 */

/** uid of the provisioned Prometheus datasource; dashboards reference nothing else. */
export const DATASOURCE_UID = 'ibo-prometheus';
export const DATASOURCE = { type: 'prometheus', uid: DATASOURCE_UID } as const;
export type DatasourceRef = typeof DATASOURCE;

export interface ThresholdStep {
  color: string;
  value: number | null;
}

export interface PromTarget {
  refId: string;
  datasource: DatasourceRef;
  expr: string;
  legendFormat: string;
  range: boolean;
  instant: boolean;
}

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export type PanelType = 'timeseries' | 'stat' | 'bargauge' | 'gauge' | 'table';

export interface Panel {
  id: number;
  type: PanelType;
  title: string;
  description: string;
  gridPos: GridPos;
  datasource: DatasourceRef;
  targets: PromTarget[];
  fieldConfig: { defaults: Record<string, unknown>; overrides: unknown[] };
  options: Record<string, unknown>;
}

export interface QueryVariable {
  type: 'query';
  name: string;
  label: string;
  datasource: DatasourceRef;
  /** Grafana's `label_values(<selector>, <label>)`; the test turns it into PromQL to evaluate it. */
  query: { query: string; refId: string };
  definition: string;
  refresh: 2;
  includeAll: true;
  multi: true;
  allValue: '.*';
  current: { selected: true; text: ['All']; value: ['$__all'] };
  sort: 1;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  editable: boolean;
  schemaVersion: 39;
  version: 1;
  refresh: string;
  time: { from: string; to: string };
  timezone: 'browser';
  graphTooltip: 1;
  templating: { list: QueryVariable[] };
  annotations: { list: unknown[] };
  links: unknown[];
  panels: Panel[];
}

export interface PanelSpec {
  type?: PanelType;
  title: string;
  description: string;
  /** Grid width out of 24; height is 8 unless given. */
  width?: number;
  height?: number;
  unit?: string;
  min?: number;
  max?: number;
  decimals?: number;
  thresholds?: ThresholdStep[];
  /** Instant queries for stat, bar gauge and table panels; range queries for time series. */
  queries: { expr: string; legend?: string }[];
}

/** The old TPS dashboard's colours: red below 30 tokens/s, yellow 30–80, green above 80. */
export const TPS_THRESHOLDS: ThresholdStep[] = [
  { color: 'red', value: null },
  { color: 'yellow', value: 30 },
  { color: 'green', value: 80 },
];

const NEUTRAL_THRESHOLDS: ThresholdStep[] = [{ color: 'green', value: null }];

export function labelValuesVariable(
  name: string,
  label: string,
  selector: string,
  labelName = name,
): QueryVariable {
  const definition = `label_values(${selector}, ${labelName})`;
  return {
    type: 'query',
    name,
    label,
    datasource: DATASOURCE,
    query: { query: definition, refId: `${name}-variable` },
    definition,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  };
}

function panelOptions(type: PanelType, hasThresholds: boolean): Record<string, unknown> {
  const reduce = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } };
  switch (type) {
    case 'timeseries':
      return { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] } };
    case 'stat':
      return {
        ...reduce,
        colorMode: hasThresholds ? 'background' : 'value',
        graphMode: 'area',
        textMode: 'auto',
      };
    case 'bargauge':
      return { ...reduce, orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true };
    case 'gauge':
      return { ...reduce, showThresholdMarkers: true };
    case 'table':
      return { showHeader: true };
  }
}

function fieldDefaults(spec: PanelSpec, type: PanelType): Record<string, unknown> {
  const defaults: Record<string, unknown> = {
    unit: spec.unit ?? 'short',
    thresholds: { mode: 'absolute', steps: spec.thresholds ?? NEUTRAL_THRESHOLDS },
    color: { mode: spec.thresholds ? 'thresholds' : 'palette-classic' },
  };
  if (spec.min !== undefined) defaults.min = spec.min;
  if (spec.max !== undefined) defaults.max = spec.max;
  if (spec.decimals !== undefined) defaults.decimals = spec.decimals;
  if (type === 'timeseries') {
    defaults.custom = {
      drawStyle: 'line',
      lineWidth: 1,
      fillOpacity: 10,
      showPoints: 'never',
      spanNulls: true,
      // Threshold bands behind the lines make the old red/yellow/green reading visible over time.
      thresholdsStyle: { mode: spec.thresholds ? 'area' : 'off' },
    };
  }
  return defaults;
}

/** Lays panels out left to right, wrapping at 24 columns, and numbers them. */
export function buildDashboard(meta: {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: QueryVariable[];
  panels: PanelSpec[];
}): Dashboard {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = meta.panels.map((spec, index): Panel => {
    const type = spec.type ?? 'timeseries';
    const w = spec.width ?? 12;
    const h = spec.height ?? 8;
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { h, w, x, y };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    const instant = type !== 'timeseries';
    return {
      id: index + 1,
      type,
      title: spec.title,
      description: spec.description,
      gridPos,
      datasource: DATASOURCE,
      targets: spec.queries.map((query, queryIndex) => ({
        refId: String.fromCharCode(65 + queryIndex),
        datasource: DATASOURCE,
        expr: query.expr,
        legendFormat: query.legend ?? '__auto',
        range: !instant,
        instant,
      })),
      fieldConfig: { defaults: fieldDefaults(spec, type), overrides: [] },
      options: panelOptions(type, spec.thresholds !== undefined),
    };
  });
  return {
    uid: meta.uid,
    title: meta.title,
    description: meta.description,
    tags: ['inference-benchmark-operator', ...meta.tags],
    editable: false,
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    timezone: 'browser',
    graphTooltip: 1,
    templating: { list: meta.variables },
    annotations: { list: [] },
    links: [
      { type: 'dashboards', tags: ['inference-benchmark-operator'], asDropdown: true, title: 'Benchmarks' },
    ],
    panels,
  };
}
