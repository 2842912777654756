import type * as k8s from '@kubernetes/client-node';
import {
  ClusterConditionType,
  ConditionReason,
  FORCE_DELETE_ANNOTATION,
  parseSlurmCluster,
  type SlurmClusterSpec,
  type SlurmClusterStatus,
} from '../../../crds/index.js';
import type { ClusterInfo, PartitionInfo } from '../../../slurm-bridge/index.js';
import { clusterOwnerKey } from '../../cluster/provider.js';
import type { SessionRegistry } from '../../cluster/registry.js';
import type { ClusterSession } from '../../cluster/types.js';
import type { Clock } from '../../runtime/clock.js';
import { toKubeTime } from '../../runtime/conditions.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { FinalizerHelper } from '../../runtime/finalizers.js';
import type { ResilientInformer } from '../../runtime/informer.js';
import type { ObjectKey, ReconcileContext, ReconcileResult, Reconciler } from '../../runtime/reconciler.js';
import { createdAtMs, keyOf, keyToString } from '../../runtime/reconciler.js';
import type { SecretReader } from '../../runtime/secrets.js';
import { SecretNotFoundError } from '../../runtime/secrets.js';
import { StatusDraft } from '../../runtime/status-draft.js';
import type { StatusWriter } from '../../runtime/status-writer.js';
import { type MonitoringOutcome, reconcileMonitoringJob } from './monitoring-job.js';
import { readinessFailure } from './ssh-reason.js';
import { type WorkDirClaim, workDirOwner } from './work-dir-owner.js';

export interface SlurmClusterObject extends k8s.KubernetesObject {
  spec?: unknown;
  status?: SlurmClusterStatus;
}

export interface SlurmClusterReconcilerDeps {
  clusters: Pick<ResilientInformer<SlurmClusterObject>, 'get' | 'list'>;
  registry: SessionRegistry;
  secrets: Pick<SecretReader, 'read'>;
  status: Pick<StatusWriter, 'writeStatus'>;
  finalizers: Pick<FinalizerHelper, 'ensure' | 'remove'>;
  events: Pick<EventRecorder, 'record'>;
  clock: Clock;
}

/** How often sinfo is asked again while the cluster is Ready (partitions and versions rarely move). */
const CLUSTER_INFO_TTL_MS = 5 * 60_000;
const RETRY_MS = 30_000;
const PROBE_TIME_REFRESH_MS = 5 * 60_000;

/**
 * SlurmCluster: connect (one shared SSH connection), report Ready with the Slurm version and partitions,
 * run the shared monitoring job, and cancel it on delete (fail-closed unless forced).
 */
export class SlurmClusterReconciler implements Reconciler {
  private readonly clusterInfo = new Map<string, { at: number; info: ClusterInfo }>();

  constructor(private readonly deps: SlurmClusterReconcilerDeps) {}

  async reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined> {
    const clusterKey = keyToString(key);
    const cached = this.deps.clusters.get(key.namespace, key.name);
    if (!cached) {
      // Gone (its finalizer already ran, or it never had one): drop the connection.
      this.clusterInfo.delete(clusterKey);
      await this.deps.registry.remove(clusterKey);
      return undefined;
    }
    if (cached.metadata?.deletionTimestamp) return this.finalize(cached, clusterKey, context);
    // The finalizer write moves the resourceVersion: the status is written on the object it returned, or
    // the first reconcile of every new SlurmCluster would end in a 409.
    const object = (await this.deps.finalizers.ensure(cached)) ?? cached;

    const draft = new ClusterStatusDraft(object, this.deps.clock);
    const parsed = parseSlurmCluster(object);
    if (!parsed.ok) {
      draft.set(ClusterConditionType.Ready, 'False', ConditionReason.InvalidSpec, parsed.message);
      this.deps.registry.markUnavailable(clusterKey, 'ClusterNotReady', `invalid spec: ${parsed.message}`);
      await this.write(object, draft);
      return undefined; // Not retried: only a new spec can fix it.
    }
    const spec = parsed.value.spec;

    const session = await this.connect(object, spec, clusterKey, draft, context);
    if (!session) {
      await this.write(object, draft);
      return { requeueAfterMs: RETRY_MS };
    }

    const owner = workDirOwner(this.claimOf(clusterKey, object, spec, session.workDir), this.otherClaims());
    if (owner) {
      draft.set(
        ClusterConditionType.MonitoringReady,
        'False',
        ConditionReason.WorkDirConflict,
        `workDir ${session.workDir} of ${spec.user}@${spec.host}:${spec.port} is already used by SlurmCluster ${owner.key}, which runs its monitoring job there; give this SlurmCluster its own workDir`,
      );
      await this.write(object, draft);
      return { requeueAfterMs: RETRY_MS };
    }

    const monitoring = await this.monitoring(object, spec, session, clusterKey);
    const known = draft.status.conditions?.some((c) => c.type === ClusterConditionType.MonitoringReady);
    if (monitoring.observed !== false || !known) {
      draft.set(
        ClusterConditionType.MonitoringReady,
        monitoring.status,
        monitoring.reason,
        monitoring.message,
      );
      draft.status.monitoring = monitoring.monitoring;
    }
    if (monitoring.event)
      await this.deps.events.record(
        object,
        monitoring.event.type,
        monitoring.event.reason,
        monitoring.event.message,
      );
    await this.write(object, draft);
    return { requeueAfterMs: monitoring.requeueAfterMs };
  }

  private claimOf(
    key: string,
    object: SlurmClusterObject,
    spec: SlurmClusterSpec,
    resolvedWorkDir: string | undefined,
  ): WorkDirClaim {
    return {
      key,
      createdAt: createdAtMs(object),
      spec,
      ...(resolvedWorkDir ? { resolvedWorkDir } : {}),
    };
  }

  /** Every other live SlurmCluster with a valid spec, with its resolved work dir when it is connected. */
  private otherClaims(): WorkDirClaim[] {
    return this.deps.clusters.list().flatMap((other) => {
      if (other.metadata?.deletionTimestamp) return [];
      const parsed = parseSlurmCluster(other);
      if (!parsed.ok) return [];
      const key = keyOf(other);
      const lookup = this.deps.registry.lookup(key);
      return [this.claimOf(key, other, parsed.value.spec, lookup.ok ? lookup.session.workDir : undefined)];
    });
  }

  private async connect(
    object: SlurmClusterObject,
    spec: SlurmClusterSpec,
    clusterKey: string,
    draft: ClusterStatusDraft,
    context: ReconcileContext,
  ): Promise<ClusterSession | undefined> {
    const namespace = object.metadata?.namespace ?? '';
    try {
      const ref = spec.sshSecretRef;
      const secret = await this.deps.secrets.read(namespace, ref.name, [
        ref.privateKeyKey,
        ref.knownHostsKey,
      ]);
      const session = await this.deps.registry.ensure(clusterKey, spec, {
        privateKey: secret.get(ref.privateKeyKey)!,
        knownHosts: secret.get(ref.knownHostsKey)!.toString('utf8'),
      });
      const info = await this.info(clusterKey, session);
      if (info.slurmVersion) draft.status.slurmVersion = info.slurmVersion;
      draft.status.partitions = info.partitions.map(partitionStatus);
      draft.probed();
      draft.set(
        ClusterConditionType.Ready,
        'True',
        ConditionReason.Connected,
        `connected to ${spec.user}@${spec.host}:${spec.port}; Slurm ${info.slurmVersion ?? 'unknown version'}, ${info.partitions.length} partition(s)`,
      );
      return session;
    } catch (error) {
      this.clusterInfo.delete(clusterKey);
      const failure =
        error instanceof SecretNotFoundError
          ? {
              reason: ConditionReason.SecretNotFound,
              message: `${error.message}: create it or fix spec.sshSecretRef`,
            }
          : readinessFailure(error);
      context.log.warn({ reason: failure.reason, err: failure.message }, 'cluster not ready');
      this.deps.registry.markUnavailable(
        clusterKey,
        'ClusterNotReady',
        `${failure.reason}: ${failure.message}`,
      );
      draft.set(ClusterConditionType.Ready, 'False', failure.reason, failure.message);
      draft.set(
        ClusterConditionType.MonitoringReady,
        'False',
        ConditionReason.ClusterNotReady,
        'waiting for the cluster to be reachable',
      );
      return undefined;
    }
  }

  private async info(clusterKey: string, session: ClusterSession): Promise<ClusterInfo> {
    const cached = this.clusterInfo.get(clusterKey);
    const now = this.deps.clock.now();
    if (cached && now - cached.at < CLUSTER_INFO_TTL_MS) return cached.info;
    const info = await session.slurm.clusterInfo();
    this.clusterInfo.set(clusterKey, { at: now, info });
    return info;
  }

  private async monitoring(
    object: SlurmClusterObject,
    spec: SlurmClusterSpec,
    session: ClusterSession,
    clusterKey: string,
  ): Promise<MonitoringOutcome> {
    const owner = clusterOwnerKey(clusterKey);
    const current = object.status?.monitoring;
    if (!spec.monitoring.enabled) {
      if (current?.jobId) await session.slurm.cancel([current.jobId]);
      session.watcher.unwatch(owner);
      return {
        status: 'True',
        reason: ConditionReason.Disabled,
        message: 'monitoring is disabled in spec.monitoring.enabled',
        monitoring: undefined,
        requeueAfterMs: 5 * 60_000,
      };
    }
    let grafanaAdmin: { user: Buffer; password: Buffer } | undefined;
    const adminRef = spec.monitoring.grafanaAdminSecretRef;
    if (adminRef) {
      try {
        const values = await this.deps.secrets.read(object.metadata?.namespace ?? '', adminRef.name, [
          adminRef.userKey,
          adminRef.passwordKey,
        ]);
        grafanaAdmin = { user: values.get(adminRef.userKey)!, password: values.get(adminRef.passwordKey)! };
      } catch (error) {
        // A user mistake, not a transient error: say so in the condition instead of retrying silently.
        if (!(error instanceof SecretNotFoundError)) throw error;
        return {
          status: 'False',
          reason: ConditionReason.SecretNotFound,
          message: `${error.message}: create it or fix spec.monitoring.grafanaAdminSecretRef`,
          monitoring: current,
          requeueAfterMs: RETRY_MS,
        };
      }
    }
    return reconcileMonitoringJob({
      session,
      spec,
      owner,
      tag: monitoringTag(object),
      jobName: `ibo-monitoring-${object.metadata?.name ?? 'cluster'}`,
      current,
      ...(grafanaAdmin ? { grafanaAdmin } : {}),
    });
  }

  /** Deletion: cancel the monitoring job, then let the object go. Fail-closed unless forced. */
  private async finalize(
    object: SlurmClusterObject,
    clusterKey: string,
    context: ReconcileContext,
  ): Promise<ReconcileResult | undefined> {
    const forced = object.metadata?.annotations?.[FORCE_DELETE_ANNOTATION] === 'true';
    const lookup = this.deps.registry.lookup(clusterKey);
    let session = lookup.ok ? lookup.session : undefined;
    if (!session) {
      const parsed = parseSlurmCluster(object);
      if (parsed.ok) {
        const draft = new ClusterStatusDraft(object, this.deps.clock);
        session = await this.connect(object, parsed.value.spec, clusterKey, draft, context);
      }
    }
    if (session) {
      const tag = monitoringTag(object);
      const ids = new Set((await session.slurm.findJobsByTag(tag)).map((job) => job.id));
      if (object.status?.monitoring?.jobId) ids.add(object.status.monitoring.jobId);
      await session.slurm.cancel([...ids]);
      session.watcher.unwatch(clusterOwnerKey(clusterKey));
      if (ids.size > 0)
        await this.deps.events.record(
          object,
          'Normal',
          'MonitoringJobCancelled',
          `cancelled job(s) ${[...ids].join(', ')}`,
        );
    } else if (!forced) {
      const draft = new ClusterStatusDraft(object, this.deps.clock);
      draft.set(
        ClusterConditionType.Ready,
        'False',
        ConditionReason.Deleting,
        `cannot reach the cluster to cancel the monitoring job; fix access, or set the annotation ${FORCE_DELETE_ANNOTATION}: "true" to remove the object and leave the job`,
      );
      await this.write(object, draft);
      return { requeueAfterMs: RETRY_MS };
    }
    await this.deps.finalizers.remove(object);
    this.clusterInfo.delete(clusterKey);
    await this.deps.registry.remove(clusterKey);
    return undefined;
  }

  private async write(object: SlurmClusterObject, draft: ClusterStatusDraft): Promise<void> {
    const result = await this.deps.status.writeStatus(object, draft.finish());
    if (!result.written) return;
    // Events for status flips only: a SlurmCluster's reasons move with every reconnect attempt.
    for (const change of draft.transitions.filter((transition) => transition.flipped)) {
      await this.deps.events.record(
        object,
        change.status === 'True' ? 'Normal' : 'Warning',
        change.reason,
        `${change.type}=${change.status}: ${change.message}`,
      );
    }
  }
}

type PartitionStatus = NonNullable<SlurmClusterStatus['partitions']>[number];

/** sinfo's view of a partition in the status' units (per node). */
export function partitionStatus(partition: PartitionInfo): PartitionStatus {
  const gpus = partition.gres
    .map((gres) => /^gpu(?::[^:(]+)?:(\d+)/.exec(gres)?.[1])
    .find((count) => count !== undefined);
  return {
    name: partition.name,
    state: partition.state,
    nodes: partition.nodes,
    ...(partition.nodes > 0 ? { cpus: Math.floor(partition.cpusTotal / partition.nodes) } : {}),
    ...(partition.memoryPerNodeMB !== null ? { memoryMB: partition.memoryPerNodeMB } : {}),
    ...(gpus !== undefined ? { gpus: Number(gpus) } : {}),
    ...(partition.maxTime ? { timeLimit: partition.maxTime } : {}),
  };
}

function monitoringTag(object: SlurmClusterObject): string {
  return `ibo-mon-${object.metadata?.uid ?? object.metadata?.name ?? 'unknown'}`;
}

/** The SlurmCluster status this reconcile wants: the runtime's StatusDraft plus the probe time. */
class ClusterStatusDraft extends StatusDraft<SlurmClusterStatus> {
  constructor(object: SlurmClusterObject, clock: Clock) {
    super(object.status, object.metadata?.generation ?? 0, () => clock.now());
  }

  /** lastProbeTime moves at most every few minutes, so a steady cluster causes no status writes. */
  probed(): void {
    const last = this.status.lastProbeTime ? Date.parse(this.status.lastProbeTime) : 0;
    if (this.now() - last >= PROBE_TIME_REFRESH_MS) this.status.lastProbeTime = toKubeTime(this.now());
  }

  finish(): SlurmClusterStatus {
    if (this.status.monitoring === undefined) delete this.status.monitoring;
    return this.status;
  }
}
