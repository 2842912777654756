import { posix } from 'node:path';

/**
 * The monitoring layout on the cluster, shared by every job script (contract between helpers):
 *   <workDir>/monitoring/targets/<kind>/<role>-<slurmJobId>.json   file_sd target files, one per job
 *   <workDir>/monitoring/endpoints.json                           where prometheus/pushgateway/grafana listen
 *   <workDir>/monitoring/scrape-token                             bearer token Prometheus sends to client /metrics
 * Remote paths are POSIX whatever the operator runs on, hence `posix`.
 */

/**
 * Target kinds Prometheus discovers through file_sd. `cadvisor` is an addition to the five agreed kinds:
 * nothing in the sandbox writes it, but a site that runs cAdvisor next to its jobs gets the cAdvisor dashboard
 * filled by dropping a target file there. `engine` is an inference server's own /metrics (vLLM, SGLang,
 * llama.cpp): queue length, running requests, KV-cache use.
 */
export const TARGET_KINDS = [
  'prometheus',
  'pushgateway',
  'node',
  'dcgm',
  'client',
  'cadvisor',
  'engine',
] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/**
 * The `role` each job puts on its target files (and in the file name), as slurm-bridge/scripts writes them:
 * the Ollama job's node-exporter and DCGM exporter are `ollama`, the client-service job's are `client`, the
 * shared monitoring job's are `monitoring`. The node-exporter dashboards select on these.
 */
export const TARGET_ROLES = { ollama: 'ollama', client: 'client', monitoring: 'monitoring' } as const;

export function monitoringDir(workDir: string): string {
  return posix.join(workDir, 'monitoring');
}

/**
 * The shared monitoring job's log: stdout and stderr in one file (Prometheus, Pushgateway and Grafana write to
 * stderr), as the benchmark jobs keep theirs. `%j` is SLURM's job id in sbatch --output; pass the id to read it.
 * A job submitted by an operator before this layout wrote `monitoring-<id>.out` and `monitoring-<id>.err`.
 */
export function monitoringLogPath(workDir: string, jobId = '%j'): string {
  return posix.join(monitoringDir(workDir), 'logs', `monitoring-${jobId}.log`);
}

export function targetsDir(workDir: string): string {
  return posix.join(monitoringDir(workDir), 'targets');
}

export function endpointsFile(workDir: string): string {
  return posix.join(monitoringDir(workDir), 'endpoints.json');
}

export function scrapeTokenFile(workDir: string): string {
  return posix.join(monitoringDir(workDir), 'scrape-token');
}

/** Grafana's provisioning tree and dashboards, uploaded by the operator (see grafana/provisioning.ts). */
export function grafanaDir(workDir: string): string {
  return posix.join(monitoringDir(workDir), 'grafana');
}

/**
 * Files the operator writes (mode 0600) from the SlurmCluster's Grafana admin Secret. Grafana reads them
 * through GF_SECURITY_ADMIN_USER__FILE / GF_SECURITY_ADMIN_PASSWORD__FILE, so the password is never in a
 * command line, an environment dump or a provisioning file.
 */
export function grafanaAdminUserFile(workDir: string): string {
  return posix.join(monitoringDir(workDir), 'secrets', 'grafana-admin-user');
}

export function grafanaAdminPasswordFile(workDir: string): string {
  return posix.join(monitoringDir(workDir), 'secrets', 'grafana-admin-password');
}
