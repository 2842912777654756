import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  ClusterConditionType,
  ConditionReason,
  FORCE_DELETE_ANNOTATION,
  SLURM_CLUSTER_FINALIZER,
  type SlurmClusterSpecInput,
  type SlurmClusterStatus,
} from '../../../crds/index.js';
import {
  HostKeyMismatchError,
  type JobInfo,
  type JobLookup,
  type PartitionInfo,
  SbatchError,
  type SubmitRequest,
} from '../../../slurm-bridge/index.js';
import { SessionRegistry } from '../../cluster/registry.js';
import type { ClusterSessionImpl, OpenSessionOptions } from '../../cluster/session.js';
import { FakeClock } from '../../runtime/clock.js';
import { jsonEqual } from '../../runtime/merge-patch.js';
import { SecretNotFoundError } from '../../runtime/secrets.js';
import type { StatusObject, StatusWriteResult } from '../../runtime/status-writer.js';
import { partitionStatus, type SlurmClusterObject, SlurmClusterReconciler } from './reconciler.js';

const UID = '7d0c1e2f-aaaa-bbbb-cccc-000011112222';
const TAG = `ibo-mon-${UID}`;
const WORK_DIR = '/home/hpcuser/hpcbench';
const ENDPOINTS_FILE = `${WORK_DIR}/monitoring/endpoints.json`;
const OWNER = 'slurmcluster:team/hpc';
const log = pino({ level: 'silent' });
const signal = new AbortController().signal;

function job(id: string, state: JobInfo['state'], extra: Partial<JobInfo> = {}): JobInfo {
  return {
    id,
    name: 'ibo-monitoring-hpc',
    state,
    rawState: state,
    reason: null,
    nodeList: state === 'PENDING' ? null : 'node01',
    nodes: state === 'PENDING' ? [] : ['node01'],
    partition: 'cpu',
    account: null,
    user: 'hpcuser',
    comment: TAG,
    submitTime: new Date('2026-01-01T00:00:00Z'),
    startTime: null,
    endTime: null,
    timeLimit: null,
    exitCode: null,
    exitSignal: null,
    stdoutPath: null,
    stderrPath: null,
    failureReason: null,
    source: 'squeue',
    ...extra,
  };
}

function partition(name: string, extra: Partial<PartitionInfo> = {}): PartitionInfo {
  return {
    name,
    isDefault: name === 'cpu',
    state: 'up',
    nodes: 2,
    nodeNames: ['node01', 'node02'],
    cpusTotal: 16,
    cpusIdle: 16,
    cpusAllocated: 0,
    memoryPerNodeMB: 8000,
    maxTime: 'infinite',
    gres: [],
    ...extra,
  };
}

/** One SlurmCluster's remote side in memory: sinfo, sbatch, squeue by tag, scancel, files, HTTP. */
class FakeCluster {
  submits: SubmitRequest[] = [];
  cancels: string[][] = [];
  sinfoCalls = 0;
  jobsByTag: JobInfo[] = [];
  states = new Map<string, JobLookup>();
  files = new Map<string, string>();
  uploads = new Map<string, number>();
  watched = new Map<string, string[]>();
  answering = true;
  submitError: Error | undefined;
  opens = 0;
  openError: Error | undefined;
  private nextId = 500;

  /** The opener the real SessionRegistry uses instead of SSH. */
  readonly open = async (options: OpenSessionOptions): Promise<ClusterSessionImpl> => {
    if (this.openError) throw this.openError;
    this.opens++;
    const session = {
      key: options.key,
      spec: options.spec,
      workDir: WORK_DIR,
      connection: { state: { status: 'connected', since: new Date(0) } },
      slurm: {
        clusterInfo: async () => {
          this.sinfoCalls++;
          return {
            slurmVersion: '22.05.8',
            partitions: [partition('cpu'), partition('gpu', { gres: ['gpu:4'] })],
          };
        },
        submit: async (request: SubmitRequest) => {
          if (this.submitError) throw this.submitError;
          this.submits.push(request);
          const id = String(this.nextId++);
          this.jobsByTag.push(job(id, 'PENDING', { comment: request.tag ?? null }));
          return id;
        },
        findJobsByTag: async (tag: string) => this.jobsByTag.filter((j) => j.comment === tag),
        cancel: async (ids: readonly string[]) => {
          if (ids.length > 0) this.cancels.push([...ids]);
        },
      },
      watcher: {
        watch: (owner: string, ids: readonly string[]) => this.watched.set(owner, [...ids]),
        unwatch: (owner: string) => this.watched.delete(owner),
        get: (id: string) => this.states.get(id),
        expedite: () => undefined,
        pollNow: async () => undefined,
        polls: 0,
      },
      files: {
        readFileIfExists: async (path: string) => this.files.get(path) ?? null,
        mkdirp: async (path: string) => path,
        uploadAtomic: async (path: string, data: string | Buffer, mode: number) => {
          this.files.set(path, data.toString());
          this.uploads.set(path, mode);
          return path;
        },
      },
      fetch: async (url: string) => {
        if (!this.answering) throw new Error('connect ECONNREFUSED');
        return new Response('Prometheus is Ready.', {
          status: new URL(url).pathname === '/-/ready' ? 200 : 404,
        });
      },
      close: async () => undefined,
    };
    return session as unknown as ClusterSessionImpl;
  };

  /** The monitoring job runs on node01 and has written its endpoints. */
  running(id: string): void {
    this.states.set(id, job(id, 'RUNNING'));
    this.jobsByTag = this.jobsByTag.map((j) => (j.id === id ? job(id, 'RUNNING') : j));
    this.files.set(
      ENDPOINTS_FILE,
      JSON.stringify({
        prometheus: 'node01:9091',
        pushgateway: 'node01:9092',
        grafana: null,
        slurmJobId: id,
      }),
    );
  }
}

const validSpec: SlurmClusterSpecInput = {
  host: 'login.example.org',
  port: 22,
  user: 'hpcuser',
  sshSecretRef: { name: 'ssh' },
  workDir: WORK_DIR,
  containerRuntime: 'native',
  defaults: { clientPartition: 'cpu' },
  monitoring: { time: '00:15:00', memGB: 1 },
};

interface Harness {
  cluster: FakeCluster;
  clock: FakeClock;
  registry: SessionRegistry;
  object: SlurmClusterObject | undefined;
  /** Other SlurmClusters in the cache. */
  others: SlurmClusterObject[];
  writes: SlurmClusterStatus[];
  finalizerOps: string[];
  events: Array<{ type: string; reason: string; message: string }>;
  /** Names of Secrets that do not exist. */
  missingSecrets: Set<string>;
  reconcile(): Promise<{ requeueAfterMs?: number } | undefined>;
  condition(type: string): { status: string; reason: string; message: string } | undefined;
}

function harness(
  overrides: {
    spec?: unknown;
    status?: SlurmClusterStatus;
    deleting?: boolean;
    annotations?: Record<string, string>;
  } = {},
): Harness {
  const cluster = new FakeCluster();
  const clock = new FakeClock();
  const registry = new SessionRegistry({
    base: {} as ConstructorParameters<typeof SessionRegistry>[0]['base'],
    open: cluster.open,
  });
  const h: Harness = {
    cluster,
    clock,
    registry,
    object: {
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'SlurmCluster',
      metadata: {
        name: 'hpc',
        namespace: 'team',
        uid: UID,
        generation: 1,
        finalizers: [SLURM_CLUSTER_FINALIZER],
        // The custom-objects informer holds the apiserver's JSON: a string, whatever V1ObjectMeta says.
        ...(overrides.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' as unknown as Date } : {}),
        ...(overrides.annotations ? { annotations: overrides.annotations } : {}),
      },
      spec: overrides.spec ?? validSpec,
      ...(overrides.status ? { status: overrides.status } : {}),
    },
    writes: [],
    others: [],
    finalizerOps: [],
    events: [],
    missingSecrets: new Set(),
    reconcile: () => reconciler.reconcile({ namespace: 'team', name: 'hpc' }, { log, signal }),
    condition: (type) => h.object?.status?.conditions?.find((c) => c.type === type),
  };
  const reconciler = new SlurmClusterReconciler({
    clusters: { get: () => h.object, list: () => [...(h.object ? [h.object] : []), ...h.others] },
    registry,
    secrets: {
      read: async (namespace, name, keys) => {
        if (h.missingSecrets.has(name))
          throw new SecretNotFoundError(`Secret ${namespace}/${name} not found`);
        return new Map(keys.map((key) => [key, Buffer.from(`value of ${key}`)]));
      },
    },
    status: {
      async writeStatus<S, T extends StatusObject<S>>(current: T, desired: S): Promise<StatusWriteResult<T>> {
        if (current.status !== undefined && jsonEqual(current.status, desired)) return { written: false };
        // As the apiserver does: a write based on an older resourceVersion is a conflict.
        if (current.metadata?.resourceVersion !== h.object?.metadata?.resourceVersion)
          throw Object.assign(new Error('Conflict'), { code: 409 });
        const written = structuredClone(desired) as SlurmClusterStatus;
        h.writes.push(written);
        // The informer cache sees the write before the next reconcile.
        if (h.object) h.object = { ...h.object, status: structuredClone(written) };
        return { written: true };
      },
    },
    finalizers: {
      ensure: async (object) => {
        h.finalizerOps.push('ensure');
        if (object.metadata?.finalizers?.includes(SLURM_CLUSTER_FINALIZER)) return undefined;
        const metadata = object.metadata ?? {};
        const added = {
          ...object,
          metadata: {
            ...metadata,
            finalizers: [...(metadata.finalizers ?? []), SLURM_CLUSTER_FINALIZER],
            resourceVersion: String(Number(metadata.resourceVersion ?? '1') + 1),
          },
        };
        h.object = added;
        return added;
      },
      remove: async (object) => {
        h.finalizerOps.push('remove');
        h.object = undefined;
        return object;
      },
    },
    events: {
      record: async (_object, type, reason, message) => {
        h.events.push({ type, reason, message });
      },
    },
    clock,
  });
  return h;
}

describe('SlurmClusterReconciler', () => {
  it('writes the first status on the object the finalizer write returned, so a new SlurmCluster sees no 409', async () => {
    const h = harness();
    if (h.object?.metadata)
      h.object.metadata = { ...h.object.metadata, finalizers: [], resourceVersion: '7' };
    await h.reconcile();
    expect(h.object?.metadata?.finalizers).toEqual([SLURM_CLUSTER_FINALIZER]);
    expect(h.writes).toHaveLength(1);
    expect(h.condition('Ready')?.status).toBe('True');
  });

  it('connects once, reports Ready with the Slurm version and partitions, and submits the monitoring job tagged with the uid', async () => {
    const h = harness();
    const result = await h.reconcile();
    expect(h.cluster.opens).toBe(1);
    expect(h.finalizerOps).toEqual(['ensure']);
    expect(h.writes).toHaveLength(1);
    const status = h.writes[0]!;
    expect(status.slurmVersion).toBe('22.05.8');
    expect(status.partitions).toEqual([
      { name: 'cpu', state: 'up', nodes: 2, cpus: 8, memoryMB: 8000, timeLimit: 'infinite' },
      { name: 'gpu', state: 'up', nodes: 2, cpus: 8, memoryMB: 8000, gpus: 4, timeLimit: 'infinite' },
    ]);
    expect(status.observedGeneration).toBe(1);
    expect(h.condition(ClusterConditionType.Ready)).toMatchObject({
      status: 'True',
      reason: ConditionReason.Connected,
    });
    expect(h.condition(ClusterConditionType.MonitoringReady)).toMatchObject({
      status: 'False',
      reason: ConditionReason.JobPending,
    });
    expect(h.cluster.submits).toHaveLength(1);
    expect(h.cluster.submits[0]).toMatchObject({
      tag: TAG,
      name: 'ibo-monitoring-hpc',
      partition: 'cpu',
      time: '00:15:00',
      memGB: 1,
    });
    expect(status.monitoring).toEqual({ jobId: '500', state: 'PENDING' });
    expect(h.cluster.watched.get(OWNER)).toEqual(['500']);
    expect(h.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['MonitoringJobSubmitted', ConditionReason.Connected]),
    );
    expect(result?.requeueAfterMs).toBe(3_000);
  });

  it('leaves the monitoring job to an older SlurmCluster on the same user and work dir, and says which', async () => {
    const h = harness();
    h.object = {
      ...h.object,
      metadata: { ...h.object?.metadata, creationTimestamp: '2026-02-01T00:00:00Z' as unknown as Date },
    };
    h.others = [
      {
        apiVersion: 'hpcbench.io/v1alpha1',
        kind: 'SlurmCluster',
        metadata: {
          name: 'first',
          namespace: 'other',
          creationTimestamp: '2026-01-01T00:00:00Z' as unknown as Date,
        },
        spec: validSpec,
      },
    ];
    await h.reconcile();
    expect(h.cluster.submits).toEqual([]);
    expect(h.condition(ClusterConditionType.Ready)?.status).toBe('True');
    expect(h.condition(ClusterConditionType.MonitoringReady)).toMatchObject({
      status: 'False',
      reason: ConditionReason.WorkDirConflict,
      message: expect.stringContaining('already used by SlurmCluster other/first'),
    });
    // Its own work dir ends the conflict.
    h.others = [{ ...h.others[0]!, spec: { ...(validSpec as object), workDir: 'elsewhere' } }];
    await h.reconcile();
    expect(h.cluster.submits).toHaveLength(1);
  });

  it('writes the scrape token (0600) and the Grafana provisioning before the first submit, with the datasource following Prometheus at run time', async () => {
    const h = harness();
    await h.reconcile();
    expect(h.cluster.uploads.get(`${WORK_DIR}/monitoring/scrape-token`)).toBe(0o600);
    const datasource = [...h.cluster.files].find(([path]) => path.includes('/datasources/'))?.[1] ?? '';
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana provisioning reference
    expect(datasource).toContain('url: ${IBO_PROMETHEUS_URL}');
    expect(datasource).not.toContain('127.0.0.1:9090');
  });

  it('uploads the Grafana admin user and password from the named Secret as user-only files', async () => {
    const h = harness({
      spec: {
        ...validSpec,
        monitoring: { ...validSpec.monitoring, grafanaAdminSecretRef: { name: 'grafana' } },
      },
    });
    await h.reconcile();
    expect(h.cluster.uploads.get(`${WORK_DIR}/monitoring/secrets/grafana-admin-user`)).toBe(0o600);
    expect(h.cluster.uploads.get(`${WORK_DIR}/monitoring/secrets/grafana-admin-password`)).toBe(0o600);
    expect(h.cluster.files.get(`${WORK_DIR}/monitoring/secrets/grafana-admin-password`)).toBe(
      'value of admin-password',
    );
    expect(JSON.stringify(h.writes) + JSON.stringify(h.events)).not.toContain('value of');
  });

  it('reports a missing Grafana admin Secret as MonitoringReady=False SecretNotFound without submitting, and keeps Ready', async () => {
    const h = harness({
      spec: {
        ...validSpec,
        monitoring: { ...validSpec.monitoring, grafanaAdminSecretRef: { name: 'grafana' } },
      },
    });
    h.missingSecrets.add('grafana');
    const result = await h.reconcile();
    expect(h.condition(ClusterConditionType.MonitoringReady)).toMatchObject({
      status: 'False',
      reason: ConditionReason.SecretNotFound,
    });
    expect(h.condition(ClusterConditionType.MonitoringReady)?.message).toContain(
      'fix spec.monitoring.grafanaAdminSecretRef',
    );
    expect(h.condition(ClusterConditionType.Ready)?.status).toBe('True');
    expect(h.cluster.submits).toEqual([]);
    expect(result?.requeueAfterMs).toBe(30_000);
  });

  it('adopts a live monitoring job found by its tag instead of submitting a second one (a restart between sbatch and the status write)', async () => {
    const h = harness();
    h.cluster.jobsByTag.push(job('400', 'RUNNING'));
    await h.reconcile();
    expect(h.cluster.submits).toEqual([]);
    expect(h.object?.status?.monitoring?.jobId).toBe('400');
    expect(h.events.map((e) => e.reason)).toContain('MonitoringJobAdopted');
  });

  it('keeps the oldest and cancels the others when several live jobs carry the tag', async () => {
    const h = harness();
    h.cluster.jobsByTag.push(job('402', 'PENDING'), job('400', 'RUNNING'), job('390', 'CANCELLED'));
    await h.reconcile();
    expect(h.object?.status?.monitoring?.jobId).toBe('400');
    expect(h.cluster.cancels).toEqual([['402']]);
    expect(h.cluster.submits).toEqual([]);
  });

  it('reports MonitoringReady=True with the endpoints once the job runs and Prometheus and the Pushgateway answer', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.running('500');
    const result = await h.reconcile();
    expect(h.condition(ClusterConditionType.MonitoringReady)).toMatchObject({
      status: 'True',
      reason: ConditionReason.MonitoringAvailable,
    });
    expect(h.object?.status?.monitoring).toEqual({
      jobId: '500',
      state: 'RUNNING',
      node: 'node01',
      prometheus: 'node01:9091',
      pushgateway: 'node01:9092',
    });
    expect(h.condition(ClusterConditionType.MonitoringReady)?.message).toContain(
      'no Grafana on this cluster',
    );
    expect(h.events.at(-1)).toMatchObject({ type: 'Normal', reason: ConditionReason.MonitoringAvailable });
    expect(result?.requeueAfterMs).toBe(60_000);
  });

  it('stays MonitoringReady=False, naming the service, while the running job does not answer yet', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.running('500');
    h.cluster.answering = false;
    await h.reconcile();
    const condition = h.condition(ClusterConditionType.MonitoringReady);
    expect(condition).toMatchObject({ status: 'False', reason: ConditionReason.JobRunning });
    expect(condition?.message).toContain('Prometheus at node01:9091');
    expect(condition?.message).toContain('ECONNREFUSED');
  });

  it('ignores an endpoints file left by an earlier monitoring job', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.running('500');
    h.cluster.files.set(
      ENDPOINTS_FILE,
      JSON.stringify({ prometheus: 'old:1', pushgateway: 'old:2', slurmJobId: '77' }),
    );
    await h.reconcile();
    expect(h.condition(ClusterConditionType.MonitoringReady)?.message).toContain('waiting for its endpoints');
    expect(h.object?.status?.monitoring?.prometheus).toBeUndefined();
  });

  it.each([
    ['hits its time limit', job('500', 'TIMEOUT'), 'TIMEOUT'],
    ['is cancelled from outside', job('500', 'CANCELLED'), 'CANCELLED'],
    ['is gone from Slurm', { id: '500', state: 'NotFound' } as const, 'gone'],
  ])(
    'resubmits the monitoring job when it %s, with an event saying how it ended',
    async (_what, ended, how) => {
      const h = harness();
      await h.reconcile();
      h.cluster.running('500');
      await h.reconcile();
      h.cluster.states.set('500', ended);
      h.cluster.jobsByTag = h.cluster.jobsByTag.filter((j) => j.id !== '500');
      await h.reconcile();
      expect(h.cluster.submits).toHaveLength(2);
      expect(h.object?.status?.monitoring).toEqual({ jobId: '501', state: 'PENDING' });
      expect(h.condition(ClusterConditionType.MonitoringReady)?.status).toBe('False');
      const ended_ = h.events.find((e) => e.reason === 'MonitoringJobEnded');
      expect(ended_?.message).toContain(`monitoring job 500 ended: ${how}`);
    },
  );

  it('does not write status or emit events when a steady cluster is reconciled again', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.running('500');
    await h.reconcile();
    const writes = h.writes.length;
    const events = h.events.length;
    await h.clock.advance(60_000);
    await h.reconcile();
    expect(h.writes).toHaveLength(writes);
    expect(h.events).toHaveLength(events);
  });

  it('asks sinfo again only after the cached cluster info is five minutes old', async () => {
    const h = harness();
    await h.reconcile();
    await h.reconcile();
    expect(h.cluster.sinfoCalls).toBe(1);
    await h.clock.advance(5 * 60_000);
    await h.reconcile();
    expect(h.cluster.sinfoCalls).toBe(2);
  });

  it('reports a wrong host key as Ready=False HostKeyMismatch with the message, and retries later without submitting', async () => {
    const h = harness();
    h.cluster.openError = new HostKeyMismatchError('login.example.org', 'SHA256:abc');
    const result = await h.reconcile();
    expect(h.condition(ClusterConditionType.Ready)).toMatchObject({
      status: 'False',
      reason: ConditionReason.HostKeyMismatch,
    });
    expect(h.condition(ClusterConditionType.Ready)?.message).toContain('does not match known_hosts');
    expect(h.condition(ClusterConditionType.MonitoringReady)).toMatchObject({
      status: 'False',
      reason: ConditionReason.ClusterNotReady,
    });
    expect(h.cluster.submits).toEqual([]);
    expect(h.registry.lookup('team/hpc')).toMatchObject({ ok: false, reason: 'ClusterNotReady' });
    expect(h.events.map((e) => [e.type, e.reason])).toContainEqual([
      'Warning',
      ConditionReason.HostKeyMismatch,
    ]);
    expect(result?.requeueAfterMs).toBe(30_000);
  });

  it('reports a missing Secret as SecretNotFound and says what to fix, without opening a connection', async () => {
    const h = harness();
    h.missingSecrets.add('ssh');
    await h.reconcile();
    expect(h.cluster.opens).toBe(0);
    expect(h.condition(ClusterConditionType.Ready)).toMatchObject({
      status: 'False',
      reason: ConditionReason.SecretNotFound,
    });
    expect(h.condition(ClusterConditionType.Ready)?.message).toContain('fix spec.sshSecretRef');
    // No secret value anywhere in what the user sees.
    expect(JSON.stringify(h.writes) + JSON.stringify(h.events)).not.toContain('value of');
  });

  it('reports an invalid spec as InvalidSpec and does not retry', async () => {
    const h = harness({ spec: { ...validSpec, port: 0 } });
    const result = await h.reconcile();
    expect(result).toBeUndefined();
    expect(h.condition(ClusterConditionType.Ready)).toMatchObject({
      status: 'False',
      reason: ConditionReason.InvalidSpec,
    });
    expect(h.cluster.opens).toBe(0);
  });

  it('reports an sbatch refusal as MonitoringReady=False SubmitFailed with Slurm’s words', async () => {
    const h = harness();
    h.cluster.submitError = new SbatchError(
      'InvalidPartition',
      1,
      'sbatch: error: invalid partition name specified',
    );
    await h.reconcile();
    const condition = h.condition(ClusterConditionType.MonitoringReady);
    expect(condition).toMatchObject({ status: 'False', reason: ConditionReason.SubmitFailed });
    expect(condition?.message).toContain('invalid partition name specified');
    expect(h.condition(ClusterConditionType.Ready)?.status).toBe('True');
  });

  it('with monitoring disabled, cancels the running monitoring job and reports MonitoringReady=True Disabled', async () => {
    const h = harness({
      spec: { ...validSpec, monitoring: { enabled: false } },
      status: { monitoring: { jobId: '450' } },
    });
    await h.reconcile();
    expect(h.cluster.cancels).toEqual([['450']]);
    expect(h.cluster.submits).toEqual([]);
    expect(h.condition(ClusterConditionType.MonitoringReady)).toMatchObject({
      status: 'True',
      reason: ConditionReason.Disabled,
    });
    expect(h.object?.status?.monitoring).toBeUndefined();
  });

  describe('deletion', () => {
    it('cancels the monitoring job (by tag and by status), records it, then removes the finalizer', async () => {
      const h = harness({ deleting: true, status: { monitoring: { jobId: '450' } } });
      h.cluster.jobsByTag.push(job('451', 'RUNNING'));
      await h.reconcile();
      expect(h.cluster.cancels).toEqual([['451', '450']]);
      expect(h.events).toContainEqual({
        type: 'Normal',
        reason: 'MonitoringJobCancelled',
        message: 'cancelled job(s) 451, 450',
      });
      expect(h.finalizerOps).toEqual(['remove']);
      expect(h.cluster.submits).toEqual([]);
    });

    it('keeps the finalizer while the cluster cannot be reached, and says how to force removal', async () => {
      const h = harness({ deleting: true, status: { monitoring: { jobId: '450' } } });
      h.cluster.openError = new HostKeyMismatchError('login.example.org', 'SHA256:abc');
      const result = await h.reconcile();
      expect(h.finalizerOps).toEqual([]);
      expect(h.cluster.cancels).toEqual([]);
      expect(h.condition(ClusterConditionType.Ready)).toMatchObject({
        status: 'False',
        reason: ConditionReason.Deleting,
      });
      expect(h.condition(ClusterConditionType.Ready)?.message).toContain(FORCE_DELETE_ANNOTATION);
      expect(result?.requeueAfterMs).toBe(30_000);
    });

    it('removes the finalizer without cancelling when an admin forces it while the cluster is unreachable', async () => {
      const h = harness({
        deleting: true,
        status: { monitoring: { jobId: '450' } },
        annotations: { [FORCE_DELETE_ANNOTATION]: 'true' },
      });
      h.cluster.openError = new HostKeyMismatchError('login.example.org', 'SHA256:abc');
      await h.reconcile();
      expect(h.finalizerOps).toEqual(['remove']);
      expect(h.cluster.cancels).toEqual([]);
    });
  });

  it('closes the connection and forgets the cluster once the object is gone', async () => {
    const h = harness();
    await h.reconcile();
    h.object = undefined;
    await h.reconcile();
    expect(h.registry.lookup('team/hpc')).toMatchObject({ ok: false, reason: 'ClusterNotFound' });
  });
});

describe('partitionStatus', () => {
  it.each([
    ['counts plain gpu gres per node', ['gpu:4'], 4],
    ['reads a typed gpu gres with its socket binding', ['gpu:a100:8(S:0-1)'], 8],
    ['ignores gres that are not GPUs', ['shard:16', 'gpu:2'], 2],
    ['leaves gpus out when the partition has none', [], undefined],
  ])('%s', (_sentence, gres, gpus) => {
    expect(partitionStatus(partition('gpu', { gres })).gpus).toBe(gpus);
  });

  it('reports CPUs per node and leaves out what sinfo did not say', () => {
    expect(
      partitionStatus(partition('cpu', { nodes: 0, cpusTotal: 0, memoryPerNodeMB: null, maxTime: null })),
    ).toEqual({
      name: 'cpu',
      state: 'up',
      nodes: 0,
    });
  });
});
