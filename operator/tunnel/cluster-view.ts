import { z } from 'zod';
import { ClusterMonitoringStatus, SlurmClusterSpec } from '../../crds/slurm-cluster.js';
import type { ForwardTarget } from '../../slurm-bridge/ssh/tunnel.js';

/**
 * What the tunnel reads from a SlurmCluster: how to log in, and where the monitoring job's Grafana and
 * Prometheus are. Loose around the picked fields, so a status written by a newer operator (more fields)
 * still parses; the picked fields keep the API's own validation.
 */
export const TunnelClusterView = z.object({
  metadata: z.object({ name: z.string().min(1), namespace: z.string().min(1) }).loose(),
  spec: SlurmClusterSpec.pick({ host: true, port: true, user: true, sshSecretRef: true }).loose(),
  status: z
    .object({
      monitoring: ClusterMonitoringStatus.pick({ jobId: true, node: true, prometheus: true, grafana: true })
        .loose()
        .optional(),
    })
    .loose()
    .optional(),
});
export type TunnelClusterView = z.infer<typeof TunnelClusterView>;

export type ServedApp = 'grafana' | 'prometheus';

export interface MonitoringTargets {
  readonly grafana: ForwardTarget | undefined;
  readonly prometheus: ForwardTarget | undefined;
  /** SLURM job id of the monitoring job these endpoints belong to; for logs. */
  readonly jobId: string | undefined;
}

/** `host:port`, `[v6]:port`. Undefined for anything else: the tunnel never guesses a target. */
export function parseHostPort(value: string | undefined): ForwardTarget | undefined {
  if (!value) return undefined;
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}

export function monitoringTargetsOf(cluster: TunnelClusterView): MonitoringTargets {
  const monitoring = cluster.status?.monitoring;
  return {
    grafana: parseHostPort(monitoring?.grafana),
    prometheus: parseHostPort(monitoring?.prometheus),
    jobId: monitoring?.jobId,
  };
}

/**
 * Everything that requires a new SSH connection when it changes. The Secret's content is not in it: the
 * tunnel re-reads the Secret whenever it rebuilds the connection (after a permanent failure, for one).
 */
export function connectionIdentity(cluster: TunnelClusterView): string {
  const { host, port, user, sshSecretRef } = cluster.spec;
  return JSON.stringify([
    host,
    port,
    user,
    sshSecretRef.name,
    sshSecretRef.privateKeyKey,
    sshSecretRef.knownHostsKey,
  ]);
}

export type ClusterSelection =
  | { readonly kind: 'selected'; readonly cluster: TunnelClusterView }
  | { readonly kind: 'problem'; readonly message: string };

/**
 * The named SlurmCluster, or, without a name, the only one in the namespace. Objects that do not parse are
 * reported, not skipped silently: a tunnel that serves nothing must say why.
 */
export function selectCluster(
  objects: readonly unknown[],
  namespace: string,
  name: string | undefined,
): ClusterSelection {
  const candidates = objects.filter((object) => {
    const metadata = (object as { metadata?: { name?: string } }).metadata;
    return name === undefined || metadata?.name === name;
  });
  if (candidates.length === 0) {
    return {
      kind: 'problem',
      message:
        name === undefined
          ? `no SlurmCluster in namespace ${namespace} yet`
          : `SlurmCluster ${namespace}/${name} does not exist (yet)`,
    };
  }
  if (candidates.length > 1) {
    const names = candidates
      .map((object) => (object as { metadata?: { name?: string } }).metadata?.name)
      .join(', ');
    return {
      kind: 'problem',
      message: `several SlurmClusters in namespace ${namespace} (${names}): choose one with --cluster (tunnel.slurmCluster)`,
    };
  }
  const parsed = TunnelClusterView.safeParse(candidates[0]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      kind: 'problem',
      message: `SlurmCluster cannot be used: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'}`,
    };
  }
  return { kind: 'selected', cluster: parsed.data };
}

export function formatTarget(target: ForwardTarget | undefined): string | null {
  if (!target) return null;
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
