import * as k8s from '@kubernetes/client-node';
import type { Command } from 'commander';
import { z } from 'zod';
import { GROUP, VERSION } from '../../crds/common.js';
import { SLURM_CLUSTER_KIND, SLURM_CLUSTER_PLURAL } from '../../crds/slurm-cluster.js';
import { SshConnection } from '../../slurm-bridge/ssh/connection.js';
import { parseBindAddress } from '../runtime/http-servers.js';
import { ResilientInformer } from '../runtime/informer.js';
import { createLogger } from '../runtime/logger.js';
import { startHealthServer } from './health-server.js';
import { type ClusterSource, MonitoringTunnel } from './monitoring-tunnel.js';

const port = z.coerce.number().int().min(0).max(65_535);

export const TunnelCommandOptions = z.object({
  kubeconfig: z.string().min(1).optional(),
  namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name'),
  cluster: z.string().min(1).optional(),
  bind: z.string().min(1),
  grafanaPort: port,
  prometheusPort: port,
  healthBind: z.string().transform((value, ctx) => {
    try {
      return parseBindAddress(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
});
export type TunnelCommandOptions = z.output<typeof TunnelCommandOptions>;

/** Adds `tunnel` to the operator's program (operator/main.ts), so one image and one bundle serve both. */
export function registerTunnelCommand(program: Command): Command {
  return program
    .command('tunnel')
    .description("Serve a SlurmCluster's Grafana and Prometheus on local ports through one SSH connection")
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config or in-cluster)')
    .option('--namespace <name>', 'namespace of the SlurmCluster', process.env.POD_NAMESPACE ?? 'default')
    .option('--cluster <name>', 'SlurmCluster to follow (default: the only one in the namespace)')
    .option('--bind <host>', 'address the Grafana and Prometheus ports listen on', '127.0.0.1')
    .option('--grafana-port <port>', 'local port serving Grafana', '3000')
    .option('--prometheus-port <port>', 'local port serving Prometheus', '9090')
    .option(
      '--health-bind <host:port>',
      'address of /healthz and /readyz (host:port or :port)',
      '127.0.0.1:8081',
    )
    .action(async (raw: Record<string, unknown>) => {
      const parsed = TunnelCommandOptions.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new Error(`invalid option ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
      }
      await runTunnel(parsed.data);
    });
}

export async function runTunnel(options: TunnelCommandOptions): Promise<void> {
  const logger = createLogger({ name: 'inference-benchmark-operator-tunnel' });
  const kubeConfig = new k8s.KubeConfig();
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else if (process.env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  const core = kubeConfig.makeApiClient(k8s.CoreV1Api);

  const informer = new ResilientInformer<k8s.KubernetesObject>({
    kubeConfig,
    resource: { group: GROUP, version: VERSION, plural: SLURM_CLUSTER_PLURAL, kind: SLURM_CLUSTER_KIND },
    namespaces: [options.namespace],
    logger,
  });
  const clusters: ClusterSource = {
    list: () => informer.list(options.namespace),
    onChange: (listener) =>
      informer.addEventHandler({ onAdd: listener, onUpdate: listener, onDelete: listener }),
  };
  const tunnel = new MonitoringTunnel({
    namespace: options.namespace,
    clusterName: options.cluster,
    bindHost: options.bind,
    grafanaPort: options.grafanaPort,
    prometheusPort: options.prometheusPort,
    clusters,
    readSecret: async (namespace, name) => {
      const secret = await core.readNamespacedSecret({ namespace, name });
      return Object.fromEntries(
        Object.entries(secret.data ?? {}).map(([key, value]) => [
          key,
          Buffer.from(value, 'base64').toString('utf8'),
        ]),
      );
    },
    openConnection: (connectionOptions) => new SshConnection(connectionOptions),
    logger,
  });

  const health = await startHealthServer(options.healthBind, () => tunnel.readiness());
  await informer.start();
  await tunnel.start();

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  await tunnel.stop();
  await informer.stop();
  await new Promise<void>((resolve) => health.close(() => resolve()));
}
