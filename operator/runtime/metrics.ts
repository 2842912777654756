import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the operator exports, on one registry (no global state, so tests can build their own).
 * Controllers receive this object and record through it; the runtime records reconciles and queue depth.
 */
export const SSH_CONNECTION_STATES = ['disconnected', 'connecting', 'connected'] as const;
export type SshConnectionState = (typeof SSH_CONNECTION_STATES)[number];

export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal';

export class OperatorMetrics {
  readonly registry: Registry;
  readonly reconcileTotal: Counter<'controller' | 'outcome'>;
  readonly reconcileErrors: Counter<'controller' | 'kind'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly queueDepth: Gauge<'controller'>;
  readonly slurmCommands: Counter<'cluster' | 'verb' | 'outcome'>;
  readonly sshConnectionState: Gauge<'cluster' | 'state'>;
  readonly benchmarksByPhase: Gauge<'phase'>;
  readonly informerRestarts: Counter<'resource' | 'cause'>;
  readonly leader: Gauge<'lease'>;
  readonly statusWrites: Counter<'resource'>;
  private benchmarkPhaseSource: (() => ReadonlyMap<string, number>) | undefined;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'ibo_' });

    this.reconcileTotal = new Counter({
      name: 'ibo_reconcile_total',
      help: 'Reconciles finished, by controller and outcome (success, requeue, error, terminal).',
      labelNames: ['controller', 'outcome'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'ibo_reconcile_errors_total',
      help: 'Reconciles that failed, by controller and kind (conflict: a stale read, retried at once; retryable; terminal).',
      labelNames: ['controller', 'kind'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'ibo_reconcile_duration_seconds',
      help: 'Time spent in one reconcile, by controller.',
      labelNames: ['controller'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'ibo_workqueue_depth',
      help: 'Keys waiting in the work queue, by controller.',
      labelNames: ['controller'],
      registers,
    });
    this.statusWrites = new Counter({
      name: 'ibo_status_writes_total',
      help: 'Status writes sent to the apiserver (a reconcile that changed nothing writes nothing), by resource.',
      labelNames: ['resource'],
      registers,
    });
    this.slurmCommands = new Counter({
      name: 'ibo_slurm_commands_total',
      help: 'SLURM commands run over SSH, by cluster, verb (sbatch, squeue, scancel, ...) and outcome.',
      labelNames: ['cluster', 'verb', 'outcome'],
      registers,
    });
    this.sshConnectionState = new Gauge({
      name: 'ibo_ssh_connection_state',
      help: 'SSH connection state per cluster: 1 for the current state, 0 for the others.',
      labelNames: ['cluster', 'state'],
      registers,
    });
    const source = (): ReadonlyMap<string, number> | undefined => this.benchmarkPhaseSource?.();
    this.benchmarksByPhase = new Gauge({
      name: 'ibo_benchmarks',
      help: 'InferenceBenchmarks by phase, counted from the cache at scrape time.',
      labelNames: ['phase'],
      registers,
      collect() {
        const counts = source();
        if (!counts) return;
        this.reset();
        for (const [phase, count] of counts) this.set({ phase }, count);
      },
    });
    this.informerRestarts = new Counter({
      name: 'ibo_informer_restarts_total',
      help: 'Informer restarts (relist + rewatch), by resource and cause (error, watchdog, relist).',
      labelNames: ['resource', 'cause'],
      registers,
    });
    this.leader = new Gauge({
      name: 'ibo_leader',
      help: '1 while this process holds the leader Lease.',
      labelNames: ['lease'],
      registers,
    });
  }

  /** Lets the benchmark controller count phases from its cache whenever Prometheus scrapes. */
  setBenchmarkPhaseSource(source: () => ReadonlyMap<string, number>): void {
    this.benchmarkPhaseSource = source;
  }

  setSshConnectionState(cluster: string, state: SshConnectionState): void {
    for (const candidate of SSH_CONNECTION_STATES) {
      this.sshConnectionState.set({ cluster, state: candidate }, candidate === state ? 1 : 0);
    }
  }

  forgetSshConnection(cluster: string): void {
    for (const state of SSH_CONNECTION_STATES) this.sshConnectionState.remove({ cluster, state });
  }

  recordSlurmCommand(cluster: string, verb: string, outcome: 'ok' | 'error' | 'timeout'): void {
    this.slurmCommands.inc({ cluster, verb, outcome });
  }
}
