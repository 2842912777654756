import * as k8s from '@kubernetes/client-node';
import { Command, InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { controllerSetups } from './controllers/registry.js';
import { parseBindAddress } from './runtime/http-servers.js';
import { DEFAULT_LEADER_ELECTION_TIMINGS, validateLeaderElectionTimings } from './runtime/leader-election.js';
import { createLogger } from './runtime/logger.js';
import { Manager } from './runtime/manager.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { registerTunnelCommand } from './tunnel/command.js';

/**
 * `node dist/operator.mjs operator [...]` runs the controllers; `tunnel [...]` serves a SlurmCluster's
 * Grafana and Prometheus through SSH (operator/tunnel, the chart's tunnel Deployment).
 * Kubernetes access: --kubeconfig, else in-cluster config, else KUBECONFIG/~/.kube/config.
 */
const SHUTDOWN_TIMEOUT_MS = 30_000;

export interface OperatorFlags {
  kubeconfig?: string;
  namespaces: string[];
  metricsBind: string;
  healthBind: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  concurrency: number;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

export function loadKubeConfig(path: string | undefined): k8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else if (process.env.KUBERNETES_SERVICE_HOST) kubeConfig.loadFromCluster();
  else kubeConfig.loadFromDefault();
  if (!kubeConfig.getCurrentCluster())
    throw new Error('no Kubernetes cluster configured (kubeconfig or in-cluster)');
  return kubeConfig;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('must be a positive integer');
  return value;
}

function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('must be a positive number');
  return value;
}

function namespaceList(text: string): string[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))
      throw new InvalidArgumentError(`'${name}' is not a namespace name`);
  }
  return names;
}

function bindAddress(text: string): string {
  try {
    parseBindAddress(text);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
  return text;
}

export async function runOperator(flags: OperatorFlags, logger: Logger): Promise<void> {
  const timings = validateLeaderElectionTimings({
    leaseDurationMs: flags.leaseDurationSeconds * 1000,
    renewDeadlineMs: flags.renewDeadlineSeconds * 1000,
    retryPeriodMs: flags.retryPeriodSeconds * 1000,
  });
  const kubeConfig = loadKubeConfig(flags.kubeconfig);
  const metrics = new OperatorMetrics();
  let exitCode = 0;
  const manager = new Manager({
    kubeConfig,
    namespaces: flags.namespaces,
    logger,
    metrics,
    concurrency: flags.concurrency,
    metricsBind: parseBindAddress(flags.metricsBind),
    healthBind: parseBindAddress(flags.healthBind),
    ...(flags.leaderElect
      ? {
          leaderElection: {
            namespace: flags.leaseNamespace,
            name: flags.leaseName,
            ...(process.env.POD_NAME ? { identity: process.env.POD_NAME } : {}),
            ...timings,
          },
        }
      : {}),
    onLostLeadership: () => {
      exitCode = 1;
      void shutdown('lost leadership');
    },
  });
  for (const setup of controllerSetups) await setup(manager);

  let shuttingDown = false;
  const shutdown = async (why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ why }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'graceful shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    await manager.stop();
    clearTimeout(timer);
    process.exit(exitCode);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      void shutdown(signal);
    });
  }
  await manager.start();
}

export function buildProgram(): Command {
  const program = new Command('inference-benchmark-operator');
  program.description('Kubernetes operator that runs LLM inference benchmarks on SLURM clusters over SSH');
  program
    .command('operator')
    .description('run the controllers')
    .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster config, then KUBECONFIG)')
    .option('--namespaces <a,b>', 'namespaces to watch, comma-separated (default: all)', namespaceList, [])
    .option('--metrics-bind <addr>', 'address for /metrics', bindAddress, ':8080')
    .option('--health-bind <addr>', 'address for /healthz and /readyz', bindAddress, ':8081')
    .option('--leader-elect', 'elect a leader through a Lease so that only one replica reconciles', false)
    .option('--lease-namespace <ns>', 'namespace of the Lease', process.env.POD_NAMESPACE ?? 'default')
    .option('--lease-name <name>', 'name of the Lease', 'inference-benchmark-operator')
    .option('--concurrency <n>', 'workers per controller', positiveInteger, 4)
    .option(
      '--lease-duration-seconds <s>',
      'leader election: lease duration',
      positiveNumber,
      DEFAULT_LEADER_ELECTION_TIMINGS.leaseDurationMs / 1000,
    )
    .option(
      '--renew-deadline-seconds <s>',
      'leader election: renew deadline',
      positiveNumber,
      DEFAULT_LEADER_ELECTION_TIMINGS.renewDeadlineMs / 1000,
    )
    .option(
      '--retry-period-seconds <s>',
      'leader election: retry period',
      positiveNumber,
      DEFAULT_LEADER_ELECTION_TIMINGS.retryPeriodMs / 1000,
    )
    .action(async (flags: OperatorFlags) => {
      const logger = createLogger();
      try {
        await runOperator(flags, logger);
      } catch (error) {
        logger.fatal(
          { err: error instanceof Error ? error.message : String(error) },
          'operator failed to start',
        );
        process.exit(1);
      }
    });
  registerTunnelCommand(program);
  return program;
}

// Run only as the program, not when imported by tests or the bundle's other entry points.
const invokedAsScript =
  process.argv[1] !== undefined && /(^|[\\/])(main\.ts|operator\.mjs)$/.test(process.argv[1]);
if (invokedAsScript) {
  await buildProgram().parseAsync(process.argv);
}
