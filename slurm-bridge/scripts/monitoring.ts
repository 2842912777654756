import { posix } from 'node:path';
import { z } from 'zod';
import { fileSdRegistration } from '../monitoring/file-sd.js';
import { exportLines, grafanaEnvironment } from '../monitoring/grafana/provisioning.js';
import { endpointsFile, monitoringDir, targetsDir } from '../monitoring/layout.js';
import { prometheusCommand, renderPrometheusConfig } from '../monitoring/prometheus-config.js';
import { shellQuote } from '../shell/quote.js';
import { cleanupTrap, HOST_VAR, moduleLoadLines, scriptPreamble, superviseTail } from './common.js';
import { nodeExporterBlock } from './ollama.js';

export const MonitoringJobOptions = z.object({
  workDir: z.string().startsWith('/'),
  scrapeIntervalSeconds: z.number().int().min(1).max(300).default(15),
  retention: z.string().default('30d'),
  modules: z.array(z.string().min(1)).default([]),
  /** Grafana's install folder (`--homepath`); Grafana starts only if its binary is found. */
  grafanaHomepath: z.string().startsWith('/').default('/usr/share/grafana'),
  readyTimeoutSeconds: z.number().int().min(1).default(120),
});
export type MonitoringJobOptions = z.input<typeof MonitoringJobOptions>;

/**
 * The cluster's shared monitoring job: Pushgateway, Prometheus (configuration from the monitoring
 * module, every target via file_sd), node-exporter, and Grafana when a Grafana binary exists (skipped
 * cleanly otherwise). Each service gets a free port; the endpoints go to monitoring/endpoints.json.
 */
export function monitoringJobScript(input: MonitoringJobOptions): string {
  const opts = MonitoringJobOptions.parse(input);
  const dir = monitoringDir(opts.workDir);
  const targets = targetsDir(opts.workDir);
  const configFile = posix.join(dir, 'prometheus.yml');
  const labels = { benchmark: 'monitoring' };
  const register = (kind: 'prometheus' | 'pushgateway' | 'node', portVar: string) =>
    fileSdRegistration({
      targetsDir: targets,
      kind,
      role: 'monitoring',
      target: [{ shellVar: HOST_VAR }, ':', { shellVar: portVar }],
      labels,
    });
  const prometheusTarget = register('prometheus', 'IBO_PROMETHEUS_PORT');
  const pushgatewayTarget = register('pushgateway', 'IBO_PUSHGATEWAY_PORT');
  const nodeTarget = register('node', 'IBO_NODE_EXPORTER_PORT');
  const grafanaEnv = grafanaEnvironment({ workDir: opts.workDir, dataDir: posix.join(dir, 'grafana-data') });
  const prometheus = prometheusCommand({
    binary: 'prometheus',
    configFile,
    dataDir: posix.join(dir, 'prometheus-data'),
    retention: opts.retention,
    listen: [{ shellVar: HOST_VAR }, ':', { shellVar: 'IBO_PROMETHEUS_PORT' }],
  });
  const endpoints = shellQuote(endpointsFile(opts.workDir));
  return [
    scriptPreamble('monitoring stack (Prometheus, Pushgateway, node-exporter, Grafana)'),
    moduleLoadLines(opts.modules),
    cleanupTrap([
      `rm -f -- ${endpoints}`,
      prometheusTarget.unregister,
      pushgatewayTarget.unregister,
      nodeTarget.unregister,
    ]),
    `mkdir -p -- ${shellQuote(dir)} ${['prometheus', 'pushgateway', 'node', 'dcgm', 'client', 'cadvisor'].map((kind) => shellQuote(posix.join(targets, kind))).join(' ')}`,
    `ibo_write_atomic ${shellQuote(configFile)} ${shellQuote(renderPrometheusConfig({ targetsDir: targets, scrapeIntervalSeconds: opts.scrapeIntervalSeconds }))}`,
    '',
    '# Pushgateway',
    'IBO_PUSHGATEWAY=$(command -v pushgateway || command -v prometheus-pushgateway || true)',
    'if [ -z "$IBO_PUSHGATEWAY" ]; then echo "no pushgateway binary on PATH" >&2; exit 1; fi',
    'IBO_PUSHGATEWAY_PORT=$(ibo_free_port)',
    `"$IBO_PUSHGATEWAY" --web.listen-address="$${HOST_VAR}:$IBO_PUSHGATEWAY_PORT" --persistence.file=${shellQuote(posix.join(dir, 'pushgateway.state'))} &`,
    `ibo_wait_tcp "$${HOST_VAR}" "$IBO_PUSHGATEWAY_PORT" ${opts.readyTimeoutSeconds}`,
    pushgatewayTarget.register.trimEnd(),
    '',
    '# Prometheus',
    'IBO_PROMETHEUS_PORT=$(ibo_free_port)',
    `${prometheus} &`,
    `ibo_wait_tcp "$${HOST_VAR}" "$IBO_PROMETHEUS_PORT" ${opts.readyTimeoutSeconds}`,
    prometheusTarget.register.trimEnd(),
    '',
    '# node-exporter',
    nodeExporterBlock(nodeTarget.register),
    '# Grafana, only when installed',
    'IBO_GRAFANA_ENDPOINT=null',
    'IBO_GRAFANA=$(command -v grafana || command -v grafana-server || true)',
    'if [ -n "$IBO_GRAFANA" ]; then',
    '  IBO_GRAFANA_PORT=$(ibo_free_port)',
    exportLines(grafanaEnv)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => `  ${line}`)
      .join('\n'),
    `  export GF_SERVER_HTTP_ADDR="$${HOST_VAR}" GF_SERVER_HTTP_PORT="$IBO_GRAFANA_PORT"`,
    `  mkdir -p -- "$GF_PATHS_DATA" "$GF_PATHS_LOGS"`,
    '  if [ "$(basename -- "$IBO_GRAFANA")" = grafana ]; then',
    `    "$IBO_GRAFANA" server --homepath ${shellQuote(opts.grafanaHomepath)} &`,
    '  else',
    `    "$IBO_GRAFANA" --homepath ${shellQuote(opts.grafanaHomepath)} &`,
    '  fi',
    `  ibo_wait_tcp "$${HOST_VAR}" "$IBO_GRAFANA_PORT" ${opts.readyTimeoutSeconds}`,
    `  IBO_GRAFANA_ENDPOINT="\\"$${HOST_VAR}:$IBO_GRAFANA_PORT\\""`,
    'else',
    '  echo "grafana not installed; dashboards skipped" >&2',
    'fi',
    '',
    `ibo_write_atomic ${endpoints} "$(printf '{"prometheus":"%s:%s","pushgateway":"%s:%s","grafana":%s,"slurmJobId":"%s"}' "$${HOST_VAR}" "$IBO_PROMETHEUS_PORT" "$${HOST_VAR}" "$IBO_PUSHGATEWAY_PORT" "$IBO_GRAFANA_ENDPOINT" "\${SLURM_JOB_ID:-}")"`,
    'echo "monitoring endpoints written"',
    superviseTail(),
  ].join('\n');
}
