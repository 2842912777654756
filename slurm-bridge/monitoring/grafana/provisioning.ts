import { posix } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { shellQuote } from '../../shell/quote.js';
import { grafanaAdminPasswordFile, grafanaAdminUserFile, grafanaDir } from '../layout.js';
import { DATASOURCE_UID } from './dashboard-model.js';
import { dashboardJson, shippedDashboards } from './dashboards.js';

/**
 * Grafana provisioning shipped with the project: one Prometheus datasource with a fixed uid, a file
 * provider for our dashboards, and the dashboards themselves. Nothing is fetched at run time, and no
 * password is in any of these files (it comes from a file the operator writes from a Secret).
 */

/**
 * The monitoring job picks Prometheus' port when it runs, after the provisioning files were uploaded, so
 * the datasource names this variable and the job exports it before Grafana starts (Grafana expands
 * `${NAME}` in provisioning files).
 */
export const PROMETHEUS_URL_ENV = 'IBO_PROMETHEUS_URL';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana provisioning reference, not a JS template
export const PROMETHEUS_URL_REFERENCE = '${IBO_PROMETHEUS_URL}';

export const GrafanaProvisioningOptions = z.object({
  workDir: z.string().startsWith('/'),
  /**
   * Where Grafana reaches Prometheus: a fixed URL, or a `${NAME}` reference to the environment Grafana
   * starts with (the default: the URL the monitoring job exports once Prometheus has its port).
   */
  prometheusUrl: z
    .union([
      z.url(),
      z
        .string()
        .regex(
          /^\$\{[A-Z_][A-Z0-9_]*\}$/,
          `a URL or an environment reference like ${PROMETHEUS_URL_REFERENCE}`,
        ),
    ])
    .default(PROMETHEUS_URL_REFERENCE),
  /** Lets Grafana pick a $__rate_interval that spans at least four scrapes. */
  scrapeIntervalSeconds: z.number().int().min(1).max(300).default(15),
});
export type GrafanaProvisioningOptions = z.input<typeof GrafanaProvisioningOptions>;

export interface ProvisioningFile {
  /** Absolute path on the cluster. */
  path: string;
  content: string;
}

function provisioningDir(workDir: string): string {
  return posix.join(grafanaDir(workDir), 'provisioning');
}

function dashboardsDir(workDir: string): string {
  return posix.join(grafanaDir(workDir), 'dashboards');
}

export function renderDatasourceProvisioning(prometheusUrl: string, scrapeIntervalSeconds: number): string {
  return stringify({
    apiVersion: 1,
    // Removing first makes a changed URL win over what Grafana stored from an earlier monitoring job.
    deleteDatasources: [{ name: 'Prometheus', orgId: 1 }],
    datasources: [
      {
        name: 'Prometheus',
        uid: DATASOURCE_UID,
        type: 'prometheus',
        access: 'proxy',
        orgId: 1,
        url: prometheusUrl,
        isDefault: true,
        editable: false,
        jsonData: { timeInterval: `${scrapeIntervalSeconds}s`, httpMethod: 'POST' },
      },
    ],
  });
}

export function renderDashboardProvider(dashboardsPath: string): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: 'inference-benchmark-operator',
        orgId: 1,
        folder: 'Inference benchmarks',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: dashboardsPath, foldersFromFilesStructure: false },
      },
    ],
  });
}

/** Every file to upload before Grafana starts: path on the cluster → content. */
export function grafanaProvisioningFiles(options: GrafanaProvisioningOptions): ProvisioningFile[] {
  const opts = GrafanaProvisioningOptions.parse(options);
  const provisioning = provisioningDir(opts.workDir);
  const dashboards = dashboardsDir(opts.workDir);
  return [
    {
      path: posix.join(provisioning, 'datasources', 'inference-benchmark-operator.yaml'),
      content: renderDatasourceProvisioning(opts.prometheusUrl, opts.scrapeIntervalSeconds),
    },
    {
      path: posix.join(provisioning, 'dashboards', 'inference-benchmark-operator.yaml'),
      content: renderDashboardProvider(dashboards),
    },
    // Grafana refuses to start when a provisioning folder it expects is missing.
    { path: posix.join(provisioning, 'plugins', '.keep'), content: '' },
    { path: posix.join(provisioning, 'alerting', '.keep'), content: '' },
    ...Object.entries(shippedDashboards()).map(([file, dashboard]) => ({
      path: posix.join(dashboards, file),
      content: dashboardJson(dashboard),
    })),
  ];
}

export const GrafanaEnvironmentOptions = z.object({
  workDir: z.string().startsWith('/'),
  /** Address Grafana binds; the tunnel reaches it through the login node. */
  httpAddr: z.string().min(1).default('127.0.0.1'),
  httpPort: z.number().int().min(1).max(65535).default(3000),
  /** Grafana's own database and logs; job-local so two monitoring jobs never share a SQLite file. */
  dataDir: z.string().startsWith('/').optional(),
});
export type GrafanaEnvironmentOptions = z.input<typeof GrafanaEnvironmentOptions>;

/**
 * Environment for grafana-server. The admin credentials come from files (`__FILE`), never values. Every
 * outbound call Grafana makes by default (update checks, usage stats, news, gravatar) is off: compute
 * nodes are usually offline, and a hanging call slows page loads.
 */
export function grafanaEnvironment(options: GrafanaEnvironmentOptions): Record<string, string> {
  const opts = GrafanaEnvironmentOptions.parse(options);
  return {
    GF_PATHS_PROVISIONING: provisioningDir(opts.workDir),
    ...(opts.dataDir ? { GF_PATHS_DATA: opts.dataDir, GF_PATHS_LOGS: posix.join(opts.dataDir, 'log') } : {}),
    GF_SERVER_HTTP_ADDR: opts.httpAddr,
    GF_SERVER_HTTP_PORT: String(opts.httpPort),
    GF_SECURITY_ADMIN_USER__FILE: grafanaAdminUserFile(opts.workDir),
    GF_SECURITY_ADMIN_PASSWORD__FILE: grafanaAdminPasswordFile(opts.workDir),
    GF_SECURITY_DISABLE_GRAVATAR: 'true',
    GF_USERS_ALLOW_SIGN_UP: 'false',
    GF_AUTH_ANONYMOUS_ENABLED: 'false',
    GF_ANALYTICS_REPORTING_ENABLED: 'false',
    GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
    GF_NEWS_NEWS_FEED_ENABLED: 'false',
    GF_PLUGINS_PLUGIN_ADMIN_ENABLED: 'false',
    GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: posix.join(dashboardsDir(opts.workDir), 'inference.json'),
  };
}

/** `export NAME='value'` lines for a job script; values go through shellQuote like every other value. */
export function exportLines(environment: Record<string, string>): string {
  return Object.entries(environment)
    .map(([name, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`not an environment variable name: ${name}`);
      return `export ${name}=${shellQuote(value)}`;
    })
    .join('\n');
}
