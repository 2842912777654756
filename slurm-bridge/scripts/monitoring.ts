import { posix } from 'node:path';
import { z } from 'zod';
import { grafanaLaunchSnippet } from '../monitoring/grafana/launch.js';
import { PROMETHEUS_URL_ENV } from '../monitoring/grafana/provisioning.js';
import { endpointsFile, monitoringDir, targetsDir } from '../monitoring/layout.js';
import { prometheusCommand, renderPrometheusConfig } from '../monitoring/prometheus-config.js';
import { shellQuote } from '../shell/quote.js';
import {
  cleanupTrap,
  HOST_VAR,
  moduleLoadLines,
  registerJobTarget,
  scriptPreamble,
  superviseTail,
} from './common.js';
import { nodeExporterBlock } from './exporters.js';

export const MonitoringJobOptions = z.object({
  workDir: z.string().startsWith('/'),
  scrapeIntervalSeconds: z.number().int().min(1).max(300).default(15),
  retention: z.string().default('30d'),
  modules: z.array(z.string().min(1)).default([]),
  /**
   * Grafana's install folder (`--homepath`); found next to the binary, else /usr/share/grafana, when unset.
   * Grafana starts only if its binary is found.
   */
  grafanaHomepath: z.string().startsWith('/').optional(),
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
    registerJobTarget({ targetsDir: targets, kind, role: 'monitoring', portVar, labels });
  const prometheusTarget = register('prometheus', 'IBO_PROMETHEUS_PORT');
  const pushgatewayTarget = register('pushgateway', 'IBO_PUSHGATEWAY_PORT');
  const nodeTarget = register('node', 'IBO_NODE_EXPORTER_PORT');
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
    // Grafana after Prometheus: its datasource follows the port Prometheus got (PROMETHEUS_URL_ENV), and
    // the launcher makes a random user-only admin password when no Secret provided one.
    `export ${PROMETHEUS_URL_ENV}="http://$${HOST_VAR}:$IBO_PROMETHEUS_PORT"`,
    'IBO_GRAFANA_PORT=$(ibo_free_port)',
    grafanaLaunchSnippet({
      workDir: opts.workDir,
      httpAddr: { shellVar: HOST_VAR },
      httpPort: { shellVar: 'IBO_GRAFANA_PORT' },
      dataDir: posix.join(dir, 'grafana-data'),
      ...(opts.grafanaHomepath ? { homepath: opts.grafanaHomepath } : {}),
    }),
    'IBO_GRAFANA_ENDPOINT=null',
    'if [ -n "$grafana_pid" ]; then',
    `  ibo_wait_tcp "$${HOST_VAR}" "$IBO_GRAFANA_PORT" ${opts.readyTimeoutSeconds}`,
    '  IBO_GRAFANA_ENDPOINT="\\"$grafana_endpoint\\""',
    'fi',
    '',
    `ibo_write_atomic ${endpoints} "$(printf '{"prometheus":"%s:%s","pushgateway":"%s:%s","grafana":%s,"slurmJobId":"%s"}' "$${HOST_VAR}" "$IBO_PROMETHEUS_PORT" "$${HOST_VAR}" "$IBO_PUSHGATEWAY_PORT" "$IBO_GRAFANA_ENDPOINT" "\${SLURM_JOB_ID:-}")"`,
    'echo "monitoring endpoints written"',
    superviseTail(),
  ].join('\n');
}
