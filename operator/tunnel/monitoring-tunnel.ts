import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ConnectionState, SshConnectionOptions } from '../../slurm-bridge/ssh/connection.js';
import { type ForwardTarget, type LocalListener, listenLocal } from '../../slurm-bridge/ssh/tunnel.js';
import { backoffDelayMs } from '../runtime/backoff.js';
import { keyOf } from '../runtime/reconciler.js';
import {
  connectionIdentity,
  formatTarget,
  type MonitoringTargets,
  monitoringTargetsOf,
  type ServedApp,
  selectCluster,
  type TunnelClusterView,
} from './cluster-view.js';

/** The part of slurm-bridge's SshConnection the tunnel uses (so unit tests can pass a local stand-in). */
export interface TunnelConnection {
  readonly state: ConnectionState;
  openTcp(host: string, port: number): Promise<Duplex>;
  connect(): Promise<void>;
  close(): Promise<void>;
  on(event: 'state', listener: (state: ConnectionState) => void): unknown;
}

/** The SlurmClusters of one namespace, kept current by a watch. */
export interface ClusterSource {
  list(): readonly unknown[];
  onChange(listener: () => void): void;
}

export interface TunnelOptions {
  readonly namespace: string;
  /** Undefined: the only SlurmCluster in the namespace. */
  readonly clusterName: string | undefined;
  readonly bindHost: string;
  readonly grafanaPort: number;
  readonly prometheusPort: number;
  readonly clusters: ClusterSource;
  /** Decoded data of a Secret in `namespace`. */
  readonly readSecret: (namespace: string, name: string) => Promise<Record<string, string>>;
  readonly openConnection: (options: SshConnectionOptions) => TunnelConnection;
  readonly logger: Logger;
  /** Delay before rebuilding a connection that failed for good; doubles up to the max. */
  readonly rebuildDelayMs?: { readonly initial: number; readonly max: number };
}

export interface TunnelReadiness {
  readonly ready: boolean;
  readonly cluster: string | null;
  readonly ssh: ConnectionState['status'] | 'none';
  readonly grafana: string | null;
  readonly prometheus: string | null;
  readonly monitoringJobId: string | null;
  readonly problem: string | null;
  /** Local ports actually bound (0 in the options means "any"). */
  readonly ports: { readonly grafana: number | null; readonly prometheus: number | null };
}

class NoTargetError extends Error {}

/**
 * Serves the cluster's Grafana and Prometheus on local ports. One SSH connection (slurm-bridge) carries every
 * browser connection as a direct-tcpip channel; the target is looked up per accepted connection, so when the
 * monitoring job is resubmitted elsewhere (new node or port in the SlurmCluster status) the next request goes
 * to the new place without a restart. SSH drops are handled by the connection's own reconnect loop; a
 * connection that gives up (or a changed spec) is rebuilt from a fresh read of the Secret.
 */
export class MonitoringTunnel {
  private readonly log: Logger;
  private cluster: TunnelClusterView | undefined;
  private targets: MonitoringTargets = { grafana: undefined, prometheus: undefined, jobId: undefined };
  private problem: string | null = 'starting';
  private connection: TunnelConnection | undefined;
  private identity: string | undefined;
  private listeners: { grafana?: LocalListener; prometheus?: LocalListener } = {};
  private syncing: Promise<void> = Promise.resolve();
  private rebuildTimer: NodeJS.Timeout | undefined;
  private rebuildFailures = 0;
  private stopped = false;

  constructor(private readonly options: TunnelOptions) {
    this.log = options.logger.child({ component: 'tunnel', namespace: options.namespace });
  }

  async start(): Promise<void> {
    const opener = { openTcp: (host: string, port: number) => this.openTcp(host, port) };
    const onError = (app: ServedApp) => (err: Error) => {
      if (err instanceof NoTargetError) this.log.debug({ app, reason: err.message }, 'refused a connection');
      else this.log.warn({ app, err: err.message }, 'could not open a channel to the monitoring job');
    };
    const bindHost = this.options.bindHost;
    this.listeners.grafana = await listenLocal(
      opener,
      this.options.grafanaPort,
      () => this.targetOf('grafana'),
      {
        bindHost,
        onError: onError('grafana'),
      },
    );
    this.listeners.prometheus = await listenLocal(
      opener,
      this.options.prometheusPort,
      () => this.targetOf('prometheus'),
      { bindHost, onError: onError('prometheus') },
    );
    this.log.info(
      { bindHost, grafanaPort: this.listeners.grafana.port, prometheusPort: this.listeners.prometheus.port },
      'listening',
    );
    this.options.clusters.onChange(() => this.requestSync());
    this.requestSync();
    await this.syncing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.rebuildTimer);
    await this.syncing;
    await Promise.all([this.listeners.grafana?.close(), this.listeners.prometheus?.close()]);
    await this.connection?.close();
  }

  readiness(): TunnelReadiness {
    const ssh = this.connection?.state.status ?? 'none';
    const anyTarget = this.targets.grafana !== undefined || this.targets.prometheus !== undefined;
    let problem = this.problem;
    if (!problem && ssh !== 'connected') problem = this.describeConnection();
    if (!problem && !anyTarget) problem = 'the SlurmCluster status has no monitoring endpoints yet';
    return {
      ready: problem === null,
      cluster: this.cluster ? keyOf(this.cluster) : null,
      ssh,
      grafana: formatTarget(this.targets.grafana),
      prometheus: formatTarget(this.targets.prometheus),
      monitoringJobId: this.targets.jobId ?? null,
      problem,
      ports: {
        grafana: this.listeners.grafana?.port ?? null,
        prometheus: this.listeners.prometheus?.port ?? null,
      },
    };
  }

  /** Serializes syncs: watch events can arrive while a Secret read is in flight. */
  private requestSync(): void {
    this.syncing = this.syncing
      .then(() => this.sync())
      .catch((err: unknown) => {
        this.problem = err instanceof Error ? err.message : String(err);
        this.log.error({ err: this.problem }, 'sync failed');
        this.scheduleRebuild();
      });
  }

  private async sync(force = false): Promise<void> {
    if (this.stopped) return;
    const selection = selectCluster(
      this.options.clusters.list(),
      this.options.namespace,
      this.options.clusterName,
    );
    if (selection.kind === 'problem') {
      if (this.problem !== selection.message)
        this.log.warn({ problem: selection.message }, 'nothing to serve');
      this.problem = selection.message;
      this.cluster = undefined;
      this.targets = { grafana: undefined, prometheus: undefined, jobId: undefined };
      await this.dropConnection();
      return;
    }
    const cluster = selection.cluster;
    this.cluster = cluster;
    this.updateTargets(monitoringTargetsOf(cluster));
    const identity = connectionIdentity(cluster);
    if (force || identity !== this.identity || !this.connection) {
      await this.rebuildConnection(cluster, identity);
    }
    this.problem = null;
  }

  private updateTargets(next: MonitoringTargets): void {
    const before = this.targets;
    this.targets = next;
    for (const app of ['grafana', 'prometheus'] as const) {
      const from = formatTarget(before[app]);
      const to = formatTarget(next[app]);
      if (from !== to)
        this.log.info({ app, from, to, monitoringJobId: next.jobId }, 'monitoring endpoint moved');
    }
  }

  private async rebuildConnection(cluster: TunnelClusterView, identity: string): Promise<void> {
    const { spec, metadata } = cluster;
    const data = await this.options.readSecret(metadata.namespace, spec.sshSecretRef.name);
    const privateKey = data[spec.sshSecretRef.privateKeyKey];
    const knownHosts = data[spec.sshSecretRef.knownHostsKey];
    if (!privateKey || knownHosts === undefined) {
      throw new Error(
        `Secret ${metadata.namespace}/${spec.sshSecretRef.name} lacks key ` +
          `${privateKey ? spec.sshSecretRef.knownHostsKey : spec.sshSecretRef.privateKeyKey}`,
      );
    }
    await this.dropConnection();
    const connection = this.options.openConnection({
      host: spec.host,
      port: spec.port,
      username: spec.user,
      privateKey,
      knownHosts,
      // The tunnel holds no session channels (only direct-tcpip ones), so one permit is plenty.
      maxSessions: 1,
    });
    this.connection = connection;
    this.identity = identity;
    connection.on('state', (state) => this.onConnectionState(connection, state));
    this.log.info({ target: `${spec.user}@${spec.host}:${spec.port}` }, 'connecting');
    // A failure here is reported through the 'failed' state, which schedules the rebuild.
    await connection.connect().catch(() => undefined);
  }

  private onConnectionState(connection: TunnelConnection, state: ConnectionState): void {
    if (connection !== this.connection || this.stopped) return;
    if (state.status === 'connected') {
      this.rebuildFailures = 0;
      this.log.info('ssh connected');
    } else if (state.status === 'reconnecting') {
      this.log.warn({ attempt: state.attempt, reason: state.lastReason }, 'ssh dropped; reconnecting');
    } else if (state.status === 'failed') {
      this.log.error(
        { reason: state.reason, message: state.message },
        'ssh gave up; rebuilding from the Secret',
      );
      this.scheduleRebuild();
    }
  }

  private scheduleRebuild(): void {
    if (this.stopped || this.rebuildTimer) return;
    const { initial, max } = this.options.rebuildDelayMs ?? { initial: 2_000, max: 60_000 };
    const delay = backoffDelayMs(this.rebuildFailures + 1, {
      baseDelayMs: initial,
      maxDelayMs: max,
      jitter: 0,
    });
    this.rebuildFailures += 1;
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      this.syncing = this.syncing
        .then(() => this.sync(true))
        .catch((err: unknown) => {
          this.problem = err instanceof Error ? err.message : String(err);
          this.log.error({ err: this.problem }, 'rebuild failed');
          this.scheduleRebuild();
        });
    }, delay);
  }

  private async dropConnection(): Promise<void> {
    const old = this.connection;
    this.connection = undefined;
    this.identity = undefined;
    await old?.close();
  }

  private targetOf(app: ServedApp): ForwardTarget {
    const target = this.targets[app];
    if (!target)
      throw new NoTargetError(`no ${app} endpoint known: ${this.readiness().problem ?? 'not yet'}`);
    return target;
  }

  private openTcp(host: string, port: number): Promise<Duplex> {
    if (!this.connection) return Promise.reject(new NoTargetError('no SSH connection yet'));
    return this.connection.openTcp(host, port);
  }

  private describeConnection(): string {
    const state = this.connection?.state;
    if (!state) return 'no SSH connection';
    switch (state.status) {
      case 'failed':
        return `SSH failed (${state.reason}): ${state.message}`;
      case 'reconnecting':
        return `SSH reconnecting after ${state.lastReason}`;
      default:
        return `SSH ${state.status}`;
    }
  }
}
