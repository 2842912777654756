import { posix } from 'node:path';
import { fileSdRegistration } from '../../slurm-bridge/monitoring/file-sd.js';
import { TARGET_ROLES } from '../../slurm-bridge/monitoring/layout.js';
import { prometheusCommand } from '../../slurm-bridge/monitoring/prometheus-config.js';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';

/**
 * sbatch scripts for the monitoring integration test: a monitoring job (Pushgateway, Prometheus,
 * node-exporter), an Ollama job and a client job, each with a node-exporter that announces itself through
 * the project's file_sd snippets. The slurm-bridge has no monitoring job script yet, so this is the minimal
 * one the brief allows; it uses the shipped Prometheus configuration and registration code unchanged.
 * Every server binds loopback on a free port (the sandbox's node is 127.0.0.1).
 */

export interface TestLayout {
  /** Stand-in for a SlurmCluster's workDir, unique per test run. */
  workDir: string;
  benchmark: string;
  model: string;
}

export const monitoringDir = (layout: TestLayout) => posix.join(layout.workDir, 'monitoring');
export const targetsDir = (layout: TestLayout) => posix.join(monitoringDir(layout), 'targets');
export const prometheusConfigFile = (layout: TestLayout) =>
  posix.join(monitoringDir(layout), 'prometheus.yml');
export const monitoringEndpointsFile = (layout: TestLayout) =>
  posix.join(monitoringDir(layout), 'endpoints.json');
/** Where the Ollama and client jobs write what the test needs back: <dir>/<job id>.json. */
export const jobOutputDir = (layout: TestLayout) => posix.join(layout.workDir, 'job-output');

const HOST = '127.0.0.1';

function script(name: string, minutes: number, lines: string[]): string {
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${name}`,
    `#SBATCH --time=${minutes}`,
    'set -euo pipefail',
    `host=${HOST}`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion
    'run=$(mktemp -d "${TMPDIR:-/tmp}/' + name + '-$SLURM_JOB_ID.XXXXXX")',
    `free_port() { node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }`,
    // A server that never answers fails the job within a minute instead of hanging until the time limit.
    'wait_ready() { for _ in $(seq 600); do curl -fsS -o /dev/null --noproxy "*" "$1" && return 0; sleep 0.1; done; echo "never ready: $1" >&2; return 1; }',
    ...lines,
  ].join('\n');
}

function nodeExporterLines(layout: TestLayout, role: string): { start: string[]; unregister: string } {
  const registration = fileSdRegistration({
    targetsDir: targetsDir(layout),
    kind: 'node',
    role,
    target: [{ shellVar: 'host' }, ':', { shellVar: 'node_port' }],
    labels: { benchmark: layout.benchmark, model: layout.model },
  });
  return {
    start: [
      'node_port=$(free_port)',
      // Without systemd every scrape would log an error from the systemd collector.
      'prometheus-node-exporter --web.listen-address="$host:$node_port" --no-collector.systemd >"$run/node-exporter.log" 2>&1 &',
      'wait_ready "http://$host:$node_port/metrics"',
      registration.register,
    ],
    unregister: registration.unregister,
  };
}

/** Pushgateway + Prometheus (the generated config, checked by promtool) + node-exporter. */
export function monitoringJob(layout: TestLayout): string {
  const mon = monitoringDir(layout);
  const prometheus = fileSdRegistration({
    targetsDir: targetsDir(layout),
    kind: 'prometheus',
    role: TARGET_ROLES.monitoring,
    target: [{ shellVar: 'host' }, ':', { shellVar: 'prometheus_port' }],
  });
  const pushgateway = fileSdRegistration({
    targetsDir: targetsDir(layout),
    kind: 'pushgateway',
    role: TARGET_ROLES.monitoring,
    target: [{ shellVar: 'host' }, ':', { shellVar: 'pushgateway_port' }],
  });
  const node = nodeExporterLines({ ...layout, benchmark: '', model: '' }, TARGET_ROLES.monitoring);
  const endpoints = shellQuote(monitoringEndpointsFile(layout));
  return script('ibo-test-monitoring', 20, [
    `cleanup() { ${prometheus.unregister}; ${pushgateway.unregister}; ${node.unregister}; rm -f ${endpoints}; rm -rf "$run"; }`,
    'trap cleanup EXIT',
    "trap 'exit 143' TERM INT",
    `promtool check config ${shellQuote(prometheusConfigFile(layout))} >"$run/promtool.out" 2>&1`,
    'prometheus_port=$(free_port)',
    'pushgateway_port=$(free_port)',
    'prometheus-pushgateway --web.listen-address="$host:$pushgateway_port" >"$run/pushgateway.log" 2>&1 &',
    `${prometheusCommand({
      configFile: prometheusConfigFile(layout),
      dataDir: posix.join(mon, 'prometheus-data'),
      listen: [{ shellVar: 'host' }, ':', { shellVar: 'prometheus_port' }],
      retention: '1d',
    })} >"$run/prometheus.log" 2>&1 &`,
    'wait_ready "http://$host:$pushgateway_port/-/ready"',
    'wait_ready "http://$host:$prometheus_port/-/ready"',
    prometheus.register,
    pushgateway.register,
    ...node.start,
    `printf '{"prometheus":"%s:%s","pushgateway":"%s:%s"}\\n' "$host" "$prometheus_port" "$host" "$pushgateway_port" >${endpoints}.tmp`,
    `mv -f ${endpoints}.tmp ${endpoints}`,
    // Ends when any server dies, so a crash shows as a finished job rather than a silent hang.
    'wait -n',
  ]);
}

/**
 * The model server: real Ollama on the sandbox's shared model folder, or, where the sandbox has no Ollama
 * build, the project's synthetic token server (test/synthetic-ollama, same NDJSON API) bundled for node.
 */
export type ModelServer = { kind: 'ollama'; modelsDir: string } | { kind: 'synthetic'; bundleFile: string };

function serverLines(server: ModelServer): string[] {
  if (server.kind === 'synthetic') {
    return [
      `node ${shellQuote(server.bundleFile)} --port "$ollama_port" --first-token-delay-ms 40 --inter-token-delay-ms 10 --token-count 24 >"$run/server.log" 2>&1 &`,
    ];
  }
  return [
    `export OLLAMA_MODELS=${shellQuote(server.modelsDir)}`,
    'export OLLAMA_NUM_PARALLEL=2 OLLAMA_KEEP_ALIVE=-1',
    // A dead proxy for everything but loopback: the job must need no network.
    'export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost',
    'ollama serve >"$run/server.log" 2>&1 &',
  ];
}

/** The model server plus the node-exporter of an Ollama node (role server). */
export function ollamaJob(layout: TestLayout, server: ModelServer): string {
  const node = nodeExporterLines(layout, TARGET_ROLES.server);
  const output = `${shellQuote(`${jobOutputDir(layout)}/`)}"$SLURM_JOB_ID.json"`;
  return script('ibo-test-ollama', 20, [
    `mkdir -p ${shellQuote(jobOutputDir(layout))}`,
    `cleanup() { ${node.unregister}; rm -rf "$run"; }`,
    'trap cleanup EXIT',
    "trap 'exit 143' TERM INT",
    'ollama_port=$(free_port)',
    'export OLLAMA_HOST="$host:$ollama_port"',
    ...serverLines(server),
    'wait_ready "http://$OLLAMA_HOST/api/version"',
    ...node.start,
    `printf '{"ollama":"%s"}\\n' "$OLLAMA_HOST" >${output}.tmp && mv -f ${output}.tmp ${output}`,
    'wait -n',
  ]);
}

/**
 * The client node: a node-exporter (role client) and one benchmark run of the client service's engine.
 * The run's status goes to <job-output>/<job id>.json; the node-exporter then stays until scancel, so the
 * client-node dashboard still has a live target when the test evaluates it.
 */
export function clientJob(layout: TestLayout, bundleFile: string, configFile: string): string {
  const node = nodeExporterLines(layout, TARGET_ROLES.client);
  const output = `${shellQuote(`${jobOutputDir(layout)}/`)}"$SLURM_JOB_ID.json"`;
  return script('ibo-test-client', 20, [
    `mkdir -p ${shellQuote(jobOutputDir(layout))}`,
    `cleanup() { ${node.unregister}; rm -rf "$run"; }`,
    'trap cleanup EXIT',
    "trap 'exit 143' TERM INT",
    ...node.start,
    `node ${shellQuote(bundleFile)} ${shellQuote(configFile)} >"$run/status.json" 2>"$run/client.log" || { cat "$run/client.log" >&2; exit 1; }`,
    `mv -f "$run/status.json" ${output}`,
    'wait -n',
  ]);
}
