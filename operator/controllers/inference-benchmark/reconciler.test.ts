import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../../client-service/api-schema.js';
import {
  BENCHMARK_FINALIZER,
  type BenchmarkResults,
  FORCE_DELETE_ANNOTATION,
  type InferenceBenchmarkSpecInput,
  type InferenceBenchmarkStatus,
} from '../../../crds/index.js';
import type { JobInfo, JobLookup, SubmitRequest } from '../../../slurm-bridge/index.js';
import { ConnectionLostError } from '../../../slurm-bridge/ssh/errors.js';
import type { ClusterSession, SessionLookup } from '../../cluster/types.js';
import { FakeClock } from '../../runtime/clock.js';
import type { Condition } from '../../runtime/conditions.js';
import type { BenchmarkObject, SlurmClusterObject } from './reconciler.js';
import { InferenceBenchmarkReconciler } from './reconciler.js';
import { judgeRun } from './steps/run.js';

const UID = '0b7c3f4e-1111-2222-3333-444455556666';
const log = pino({ level: 'silent' });
const signal = new AbortController().signal;

function job(id: string, state: JobInfo['state'], extra: Partial<JobInfo> = {}): JobInfo {
  return {
    id,
    name: 'x',
    state,
    rawState: state,
    reason: null,
    nodeList: state === 'PENDING' ? null : 'localhost',
    nodes: [],
    partition: 'cpu',
    account: null,
    user: 'hpcuser',
    comment: null,
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

/** A cluster in memory: sbatch, squeue by tag, scancel, files and HTTP to the jobs' services. */
class FakeCluster {
  submits: SubmitRequest[] = [];
  cancels: string[][] = [];
  jobsByTag: JobInfo[] = [];
  states = new Map<string, JobLookup>();
  files = new Map<string, string>();
  modes = new Map<string, number>();
  watched = new Map<string, string[]>();
  runState: RunStatus['state'] | 'missing' = 'missing';
  /** Fields of the run's summary to replace (nulls, failures). */
  summaryPatch: Partial<RunStatus['summary']> = {};
  runPosts = 0;
  /** squeue listings of the user's jobs (adoption lookups). */
  listings = 0;
  /** The next sbatch runs, then the connection drops before its answer arrives. */
  dropAfterNextSubmit = false;
  private nextId = 100;

  session(): ClusterSession {
    const fake = {
      key: 'team/sandbox',
      spec: { containerRuntime: 'native', defaults: { serverPartition: 'cpu', clientPartition: 'cpu' } },
      workDir: '/home/hpcuser/hpcbench',
      connection: { exec: async () => ({ code: 0, stdout: '/home/hpcuser', stderr: '' }) },
      slurm: {
        submit: async (request: SubmitRequest) => {
          this.submits.push(request);
          const id = String(this.nextId++);
          this.jobsByTag.push(job(id, 'PENDING', { name: request.name, comment: request.tag ?? null }));
          if (this.dropAfterNextSubmit) {
            this.dropAfterNextSubmit = false;
            throw new ConnectionLostError('hpcuser@login:22');
          }
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
        polls: 0,
      },
      files: {
        readFileIfExists: async (path: string) => this.files.get(path) ?? null,
        mkdirp: async (path: string) => path,
        uploadAtomic: async (path: string, data: string, mode: number) => {
          this.files.set(path, data);
          this.modes.set(path, mode);
          return path;
        },
        tail: async () => 'ollama: out of memory\n',
      },
      ensureUploaded: async (name: string) => `/home/hpcuser/hpcbench/bin/abc-${name}`,
      fetch: async (url: string, init?: { method?: string }) => this.http(url, init?.method ?? 'GET'),
    };
    return fake as unknown as ClusterSession;
  }

  /** Both jobs run and answer; the model is present. */
  everythingUp(serverId: string, clientId: string): void {
    this.states.set(serverId, job(serverId, 'RUNNING'));
    this.states.set(clientId, job(clientId, 'RUNNING'));
    for (const [path] of [...this.files]) void path;
    this.files.set(this.runFile('server.endpoint'), 'localhost:41000\n');
    this.files.set(this.runFile('client.endpoint'), 'localhost:42000\n');
  }

  runFile(name: string, generation = 1): string {
    return `/home/hpcuser/hpcbench/benchmarks/team/bench/${UID}-g${generation}/${name}`;
  }

  private async http(url: string, method: string): Promise<Response> {
    const path = new URL(url).pathname;
    if (path === '/api/tags') return Response.json({ models: [{ name: 'gemma3:270m' }] });
    if (path === '/health') return Response.json({ status: 'ok' });
    if (path.startsWith('/runs')) {
      if (method === 'POST') {
        this.runPosts++;
        this.runState = 'running';
        return Response.json(runStatus('running'));
      }
      if (this.runState === 'missing') return new Response('{}', { status: 404 });
      const status = runStatus(this.runState);
      return Response.json({ ...status, summary: { ...status.summary, ...this.summaryPatch } });
    }
    return new Response('', { status: 404 });
  }
}

function distribution(value: number | null) {
  return { mean: value, p50: value, p90: value, p95: value, p99: value };
}

function runStatus(state: RunStatus['state']): RunStatus {
  const done = state === 'succeeded';
  return {
    id: `${UID}-g1`,
    benchmark: 'bench',
    model: 'gemma3:270m',
    state,
    message: null,
    startedAt: '2026-01-01T00:01:00.000Z',
    finishedAt: done ? '2026-01-01T00:02:00.000Z' : null,
    progress: {
      completed: done ? 4 : 1,
      cancelled: 0,
      total: 4,
      inFlight: 1,
      warmupCompleted: 0,
      warmupTotal: 0,
    },
    summary: {
      runId: `${UID}-g1`,
      counts: { requests: 4, succeeded: done ? 4 : 1, failed: 0, warmup: 0 },
      tokens: { output: 64, prompt: 40, estimatedOutputRequests: 0 },
      wallTimeSeconds: 2,
      requestsPerSecond: 2,
      outputTokensPerSecond: 32,
      ttftMs: distribution(50),
      itlMs: distribution(10),
      tpotMs: distribution(10),
      e2eMs: distribution(200),
      decodeTps: distribution(100),
      clientTps: distribution(80),
      errors: { timeout: 0, httpStatus: 0, streamError: 0, connection: 0 },
    },
    openLoop: null,
    startLagMs: distribution(0),
    pushgateway: { url: null, pushes: 0, failures: 0, lastError: null },
    outputDir: null,
  };
}

const validSpec: InferenceBenchmarkSpecInput = {
  clusterRef: { name: 'sandbox' },
  model: { name: 'gemma3:270m' },
  slurm: { memGB: 2 },
  workload: { clients: 2, requestsPerClient: 2, maxTokens: 16 },
  monitoring: { enabled: false },
};

interface Harness {
  reconciler: InferenceBenchmarkReconciler;
  cluster: FakeCluster;
  writes: InferenceBenchmarkStatus[];
  finalizerOps: string[];
  events: Array<{ type: string; reason: string; message: string }>;
  object: BenchmarkObject;
  /** Other benchmarks in the cache (same namespace). */
  others: BenchmarkObject[];
  clusterObject: SlurmClusterObject | undefined;
  /** onCapacityFreed calls, as namespace/cluster. */
  woken: string[];
  /** Thrown by the next status write, as the apiserver would (a 409 on a stale read). */
  failNextWrite: Error | undefined;
  setSession(lookup: SessionLookup | 'up'): void;
  reconcile(): Promise<{ requeueAfterMs?: number } | undefined>;
}

function harness(overrides: Partial<BenchmarkObject> = {}): Harness {
  const cluster = new FakeCluster();
  const clock = new FakeClock();
  let session: SessionLookup = { ok: true, session: cluster.session() };
  const h: Harness = {
    cluster,
    writes: [],
    finalizerOps: [],
    events: [],
    others: [],
    clusterObject: { metadata: { name: 'sandbox', namespace: 'team' }, spec: {} },
    woken: [],
    failNextWrite: undefined,
    object: {
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'InferenceBenchmark',
      metadata: {
        name: 'bench',
        namespace: 'team',
        uid: UID,
        generation: 1,
        finalizers: [BENCHMARK_FINALIZER],
      },
      spec: validSpec,
      ...overrides,
    },
    setSession(lookup) {
      session = lookup === 'up' ? { ok: true, session: cluster.session() } : lookup;
    },
    reconcile: () => h.reconciler.reconcile({ namespace: 'team', name: 'bench' }, { log, signal }),
    reconciler: new InferenceBenchmarkReconciler({
      benchmarks: { get: () => h.object, list: () => [h.object, ...h.others] },
      clusters: {
        get: () => h.clusterObject,
        list: () => (h.clusterObject ? [h.clusterObject] : []),
      },
      onCapacityFreed: (namespace, cluster) => h.woken.push(`${namespace}/${cluster}`),
      registry: { lookup: () => session },
      status: {
        writeStatus: async (current, desired) => {
          // The real writer diffs; this one records only real changes, like it.
          if (JSON.stringify(current.status ?? {}) === JSON.stringify(desired)) return { written: false };
          const failure = h.failNextWrite;
          h.failNextWrite = undefined;
          if (failure) throw failure;
          h.writes.push(structuredClone(desired));
          h.object = { ...h.object, status: structuredClone(desired) };
          return { written: true };
        },
      },
      finalizers: {
        ensure: async (object) => {
          if (object.metadata?.finalizers?.includes(BENCHMARK_FINALIZER)) return undefined;
          h.finalizerOps.push('ensure');
          return object;
        },
        remove: async (object) => {
          h.finalizerOps.push('remove');
          return object;
        },
      },
      events: {
        record: async (_object, type, reason, message) => {
          h.events.push({ type, reason, message });
        },
      },
      clock,
      clientBundle: async () => Buffer.from('bundle'),
      ownedJobs: {
        withTagPrefix: async (_s, prefix) => {
          cluster.listings++;
          return cluster.jobsByTag.filter((j) => j.comment?.startsWith(prefix));
        },
      },
      newToken: () => 'secret-token',
    }),
  };
  return h;
}

function condition(status: InferenceBenchmarkStatus | undefined, type: string): Condition | undefined {
  return (status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}

describe('InferenceBenchmark reconcile', () => {
  it('reports InvalidSpec as Failed, adds no finalizer and submits nothing when the spec fails validation', async () => {
    const h = harness({
      spec: { ...validSpec, workload: { clients: 0 } },
      metadata: { name: 'bench', namespace: 'team', uid: UID, generation: 1 },
    });
    expect(await h.reconcile()).toBeUndefined();
    expect(h.writes).toHaveLength(1);
    expect(h.writes[0]?.phase).toBe('Failed');
    expect(condition(h.writes[0], 'Ready')).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(condition(h.writes[0], 'Ready')?.message).toContain('spec.workload.clients');
    expect(h.finalizerOps).toEqual([]);
    expect(h.cluster.submits).toEqual([]);
  });

  it('adds the finalizer and stays Pending without submitting while the cluster is not ready', async () => {
    const h = harness({ metadata: { name: 'bench', namespace: 'team', uid: UID, generation: 1 } });
    h.setSession({ ok: false, reason: 'ClusterNotReady', message: 'SSH down' });
    expect(await h.reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(h.finalizerOps).toEqual(['ensure']);
    expect(h.writes.at(-1)?.phase).toBe('Pending');
    expect(condition(h.writes.at(-1), 'Ready')).toMatchObject({
      reason: 'ClusterNotReady',
      message: 'SSH down',
    });
    expect(h.cluster.submits).toEqual([]);
  });

  it('submits the server job once, tagged with uid and generation, and shows Queued with Slurm reason while it pends', async () => {
    const h = harness();
    await h.reconcile();
    expect(h.cluster.submits).toHaveLength(1);
    expect(h.cluster.submits[0]).toMatchObject({ tag: `ibo.${UID}.g1`, partition: 'cpu', memGB: 2 });
    h.cluster.states.set('100', job('100', 'PENDING', { reason: 'Resources' }));
    await h.reconcile();
    expect(h.cluster.submits).toHaveLength(1);
    expect(h.writes.at(-1)?.phase).toBe('Queued');
    expect(condition(h.writes.at(-1), 'OllamaModelLoaded')?.message).toContain('pending: Resources');
    expect(h.writes.at(-1)?.slurmJobs).toEqual([
      {
        role: 'server',
        id: '100',
        state: 'PENDING',
        reason: 'Resources',
        submitTime: '2026-01-01T00:00:00Z',
      },
    ]);
  });

  it('waits in Queued, number in line given, while maxActiveBenchmarks are taken, and submits once a place frees', async () => {
    const h = harness();
    h.object.metadata = { ...h.object.metadata, creationTimestamp: new Date('2026-01-01T00:00:10Z') };
    h.clusterObject = { metadata: { name: 'sandbox', namespace: 'team' }, spec: { maxActiveBenchmarks: 1 } };
    const other = (name: string, created: string, status: InferenceBenchmarkStatus): BenchmarkObject => ({
      metadata: { name, namespace: 'team', creationTimestamp: new Date(created) },
      spec: validSpec,
      status,
    });
    const running = other('first', '2026-01-01T00:00:00Z', {
      phase: 'Running',
      runId: 'r1',
      slurmJobs: [{ role: 'server', id: '5', state: 'RUNNING' }],
    });
    const earlier = other('earlier', '2026-01-01T00:00:05Z', { phase: 'Pending' });
    h.others = [running, earlier];
    expect(await h.reconcile()).toEqual({ requeueAfterMs: 15_000 });
    expect(h.cluster.submits).toEqual([]);
    expect(h.writes.at(-1)?.phase).toBe('Queued');
    expect(condition(h.writes.at(-1), 'OllamaModelLoaded')).toMatchObject({
      reason: 'WaitingForCapacity',
      message: expect.stringContaining('1 of 1 benchmarks (maxActiveBenchmarks) hold jobs; number 2 in line'),
    });
    // The running one finishes: the one created earlier goes first, then this one.
    const done = { ...running, status: { ...running.status, phase: 'Succeeded' as const } };
    h.others = [done, earlier];
    await h.reconcile();
    expect(h.cluster.submits).toEqual([]);
    expect(condition(h.writes.at(-1), 'OllamaModelLoaded')?.message).toContain('0 of 1 benchmarks');
    h.others = [
      done,
      {
        ...earlier,
        status: { phase: 'Queued', runId: 'r2', slurmJobs: [{ role: 'server', id: '6', state: 'PENDING' }] },
      },
    ];
    await h.reconcile();
    expect(h.cluster.submits).toEqual([]);
    expect(condition(h.writes.at(-1), 'OllamaModelLoaded')?.message).toContain(
      '1 of 1 benchmarks (maxActiveBenchmarks) hold jobs; number 1 in line',
    );
    h.others = [done, { ...earlier, metadata: { ...earlier.metadata, deletionTimestamp: new Date() } }];
    await h.reconcile();
    expect(h.cluster.submits).toHaveLength(1);
  });

  it('frees its place when the run settles and wakes the benchmarks of that cluster once', async () => {
    const h = harness();
    h.clusterObject = { metadata: { name: 'sandbox', namespace: 'team' }, spec: { maxActiveBenchmarks: 1 } };
    h.object = { ...h.object, status: { phase: 'Failed', runId: `${UID}-g1`, slurmJobs: [] } };
    await h.reconcile();
    await h.reconcile();
    expect(h.woken).toEqual(['team/sandbox']);
  });

  it('adopts a job carrying the run tag instead of submitting a second one after a crash before the status write', async () => {
    const h = harness();
    h.cluster.jobsByTag.push(
      job('77', 'RUNNING', { name: 'ibo-server-team-bench', comment: `ibo.${UID}.g1` }),
    );
    await h.reconcile();
    expect(h.cluster.submits).toEqual([]);
    expect(h.writes.at(-1)?.slurmJobs?.[0]?.id).toBe('77');
  });

  it("lists the cluster user's jobs once for adoption, and again only after an sbatch whose answer was lost", async () => {
    const h = harness();
    h.cluster.dropAfterNextSubmit = true;
    await h.reconcile();
    expect(h.cluster.submits).toHaveLength(1);
    expect(h.cluster.listings).toBe(1);
    // The sbatch ran although its answer never came: the next reconcile looks again and adopts it.
    await h.reconcile();
    expect(h.cluster.submits).toHaveLength(1);
    expect(h.cluster.listings).toBe(2);
    expect(h.writes.at(-1)?.slurmJobs?.map((j) => j.id)).toEqual(['100']);
    h.cluster.states.set('100', job('100', 'PENDING', { reason: 'Resources' }));
    await h.reconcile();
    await h.reconcile();
    expect(h.cluster.listings).toBe(2);
  });

  it('fails naming the job, with the log tail, when the server job was cancelled from outside', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.states.set('100', job('100', 'CANCELLED', { exitCode: 0, exitSignal: 15, source: 'scontrol' }));
    await h.reconcile();
    const last = h.writes.at(-1);
    expect(last?.phase).toBe('Failed');
    expect(condition(last, 'OllamaModelLoaded')).toMatchObject({ status: 'False', reason: 'JobCancelled' });
    expect(condition(last, 'BenchmarkComplete')?.message).toContain(
      'SLURM job 100 (Ollama server) was cancelled',
    );
    expect(condition(last, 'Ready')?.message).toContain('out of memory');
    expect(h.events.some((e) => e.type === 'Warning' && e.reason === 'JobCancelled')).toBe(true);
  });

  it('writes nothing when a reconcile finds nothing changed', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.states.set('100', job('100', 'PENDING', { reason: 'Priority' }));
    await h.reconcile();
    const before = h.writes.length;
    await h.reconcile();
    expect(h.writes.length).toBe(before);
  });

  it('runs to Succeeded: token file 0600, one POST /runs, progress mirrored, results copied, both jobs cancelled', async () => {
    const h = harness();
    await h.reconcile(); // server submitted
    h.cluster.everythingUp('100', '101');
    await h.reconcile(); // model loaded, client submitted
    expect(h.cluster.submits.map((s) => s.name)).toEqual(['ibo-server-team-bench', 'ibo-client-team-bench']);
    expect(h.cluster.modes.get(h.cluster.runFile('client.token'))).toBe(0o600);
    expect(h.cluster.submits[1]?.script).not.toContain('secret-token');
    await h.reconcile(); // client healthy, run started
    expect(h.cluster.runPosts).toBe(1);
    expect(h.writes.at(-1)?.phase).toBe('Running');
    expect(h.writes.at(-1)?.progress).toMatchObject({
      completedRequests: 1,
      totalRequests: 4,
      display: '1/4',
    });
    await h.reconcile();
    expect(h.cluster.runPosts).toBe(1);
    h.cluster.runState = 'succeeded';
    await h.reconcile();
    const last = h.writes.at(-1);
    expect(last?.phase).toBe('Succeeded');
    expect(last?.results?.outputTokensPerSecond).toBe(32);
    expect(condition(last, 'BenchmarkComplete')).toMatchObject({ status: 'True', reason: 'RunSucceeded' });
    expect(condition(last, 'Ready')?.status).toBe('True');
    // The end is written first; the jobs are cancelled by the reconcile that reads it back.
    expect(h.cluster.cancels).toEqual([]);
    await h.reconcile();
    expect(h.cluster.cancels).toEqual([['100', '101']]);
  });

  it('keeps Succeeded when the write of the end fails with a conflict: nothing is cancelled before it lands', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    await h.reconcile();
    h.cluster.runState = 'succeeded';
    h.failNextWrite = Object.assign(new Error('Conflict'), { code: 409 });
    await expect(h.reconcile()).rejects.toMatchObject({ code: 409 });
    expect(h.cluster.cancels).toEqual([]);
    expect(h.object.status?.phase).toBe('Running');
    await h.reconcile(); // the retry on fresh data
    expect(h.object.status?.phase).toBe('Succeeded');
    expect(condition(h.object.status, 'Ready')).toMatchObject({ status: 'True', reason: 'RunSucceeded' });
    await h.reconcile();
    expect(h.cluster.cancels).toEqual([['100', '101']]);
    expect(h.object.status?.phase).toBe('Succeeded');
  });

  it('keeps null figures (no ITL for one-token answers) in the written results', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    await h.reconcile();
    h.cluster.runState = 'succeeded';
    h.cluster.summaryPatch = { itlMs: { mean: null, p50: null, p90: null, p95: null, p99: null } };
    await h.reconcile();
    expect(h.object.status?.phase).toBe('Succeeded');
    expect(h.object.status?.results?.itlMs).toEqual({
      mean: null,
      p50: null,
      p90: null,
      p95: null,
      p99: null,
    });
  });

  it('fails a run whose measured requests all failed, keeping the results with the error kinds counted', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    await h.reconcile();
    h.cluster.runState = 'succeeded';
    h.cluster.summaryPatch = {
      counts: { requests: 4, succeeded: 0, failed: 4, warmup: 0 },
      errors: { timeout: 3, httpStatus: 0, streamError: 0, connection: 1 },
    };
    await h.reconcile();
    expect(h.object.status?.phase).toBe('Failed');
    expect(condition(h.object.status, 'Ready')).toMatchObject({ status: 'False', reason: 'RunFailed' });
    expect(condition(h.object.status, 'Ready')?.message).toContain(
      'every measured request failed (3 timeout, 1 connection)',
    );
    expect(h.object.status?.results?.errors.timeout).toBe(3);
  });

  it('leaves a settled benchmark as it is while its cluster cannot be reached (an operator restart)', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    await h.reconcile();
    h.cluster.runState = 'succeeded';
    await h.reconcile();
    const settled = structuredClone(h.object.status);
    const writes = h.writes.length;
    h.setSession({
      ok: false,
      reason: 'ClusterNotReady',
      message: 'SlurmCluster team/sandbox is not connected yet',
    });
    await h.reconcile();
    expect(h.writes.length).toBe(writes);
    expect(h.object.status).toEqual(settled);
    expect(condition(h.object.status, 'Ready')?.status).toBe('True');
  });

  it('names a SlurmCluster that does not exist as ClusterNotFound', async () => {
    const h = harness();
    h.clusterObject = undefined;
    await h.reconcile();
    expect(condition(h.writes.at(-1), 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterNotFound' });
    expect(condition(h.writes.at(-1), 'Ready')?.message).toContain(
      'SlurmCluster sandbox not found in namespace team',
    );
    expect(h.cluster.submits).toEqual([]);
  });

  it('keeps the finalizer and says how to force removal while the cluster is unreachable during deletion', async () => {
    const h = harness({
      metadata: {
        name: 'bench',
        namespace: 'team',
        uid: UID,
        generation: 1,
        finalizers: [BENCHMARK_FINALIZER],
        deletionTimestamp: new Date(),
      },
    });
    h.setSession({ ok: false, reason: 'ClusterNotReady', message: 'SSH down' });
    expect(await h.reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(h.finalizerOps).toEqual([]);
    expect(condition(h.writes.at(-1), 'Ready')?.message).toContain(FORCE_DELETE_ANNOTATION);
  });

  it('removes the finalizer without cancelling when an admin forces deletion of an unreachable cluster', async () => {
    const h = harness({
      metadata: {
        name: 'bench',
        namespace: 'team',
        uid: UID,
        generation: 1,
        finalizers: [BENCHMARK_FINALIZER],
        deletionTimestamp: new Date(),
        annotations: { [FORCE_DELETE_ANNOTATION]: 'true' },
      },
    });
    h.setSession({ ok: false, reason: 'ClusterNotReady', message: 'SSH down' });
    await h.reconcile();
    expect(h.finalizerOps).toEqual(['remove']);
  });

  it('cancels every live job of every run found by tag before removing the finalizer on deletion', async () => {
    const h = harness({
      metadata: {
        name: 'bench',
        namespace: 'team',
        uid: UID,
        generation: 2,
        finalizers: [BENCHMARK_FINALIZER],
        deletionTimestamp: new Date(),
      },
    });
    h.cluster.jobsByTag.push(
      job('5', 'RUNNING', { comment: `ibo.${UID}.g1` }),
      job('6', 'PENDING', { comment: `ibo.${UID}.g2` }),
      job('7', 'COMPLETED', { comment: `ibo.${UID}.g2` }),
      job('8', 'RUNNING', { comment: 'ibo.someone-else.g1' }),
    );
    await h.reconcile();
    expect(h.cluster.cancels).toEqual([['5', '6']]);
    expect(h.finalizerOps).toEqual(['remove']);
  });

  it('cancels the old run and starts a new one when the generation changes', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.states.set('100', job('100', 'RUNNING'));
    await h.reconcile();
    h.object = {
      ...h.object,
      metadata: { ...h.object.metadata, generation: 2 },
      spec: { ...validSpec, workload: { clients: 1, requestsPerClient: 1 } },
    };
    await h.reconcile();
    expect(h.cluster.cancels[0]).toEqual(['100']);
    expect(h.cluster.submits).toHaveLength(2);
    expect(h.cluster.submits[1]?.tag).toBe(`ibo.${UID}.g2`);
    const last = h.writes.at(-1);
    expect(last?.runId).toBe(`${UID}-g2`);
    expect(last?.observedGeneration).toBe(2);
    expect(last?.slurmJobs?.map((j) => j.id)).toEqual(['101']);
  });

  it('keeps a True condition and writes nothing when a restarted operator has not polled the job yet', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    const writes = h.writes.length;
    // A new process: same status, but the job watcher has no state yet.
    const restarted = harness();
    restarted.object = h.object;
    restarted.cluster.jobsByTag = h.cluster.jobsByTag;
    await restarted.reconcile();
    expect(restarted.writes).toEqual([]);
    expect(restarted.cluster.submits).toEqual([]);
    expect(condition(h.object.status, 'OllamaModelLoaded')?.status).toBe('True');
    expect(h.writes.length).toBe(writes);
  });

  it('fails with SubmitFailed and sbatch stderr when sbatch refuses the job', async () => {
    const h = harness();
    const session = h.cluster.session();
    const { SbatchError } = await import('../../../slurm-bridge/index.js');
    (session.slurm as unknown as { submit: () => Promise<string> }).submit = async () => {
      throw new SbatchError('InvalidPartition', 1, 'sbatch: error: Invalid partition name specified');
    };
    h.setSession({ ok: true, session });
    await h.reconcile();
    expect(h.writes.at(-1)?.phase).toBe('Failed');
    expect(condition(h.writes.at(-1), 'OllamaModelLoaded')).toMatchObject({ reason: 'SubmitFailed' });
    expect(condition(h.writes.at(-1), 'Ready')?.message).toContain('Invalid partition name');
  });
});

describe('judgeRun', () => {
  const run = { id: 'r1', state: 'succeeded' as const, message: null };
  const results = (requests: number, failed: number): BenchmarkResults => ({
    ...runStatus('succeeded').summary,
    counts: { requests, succeeded: requests - failed, failed, warmup: 0 },
    errors: { timeout: failed, httpStatus: 0, streamError: 0, connection: 0 },
  });

  it('counts a run as Succeeded up to workload.maxErrorRate failed, and TooManyErrors above it', () => {
    expect(judgeRun(run, results(100, 5), 0.05)).toMatchObject({ succeeded: true });
    expect(judgeRun(run, results(100, 5), 0.05).message).toContain('5 failed (5 timeout)');
    expect(judgeRun(run, results(100, 6), 0.05)).toMatchObject({ succeeded: false, reason: 'TooManyErrors' });
    expect(judgeRun(run, results(100, 0), 0)).toMatchObject({ succeeded: true });
  });

  it('fails a run with no successful request whatever maxErrorRate allows, and a run the client service failed', () => {
    expect(judgeRun(run, results(4, 4), 1)).toMatchObject({ succeeded: false, reason: 'RunFailed' });
    expect(judgeRun({ ...run, state: 'failed', message: 'boom' }, results(4, 1), 1)).toMatchObject({
      succeeded: false,
      reason: 'RunFailed',
      message: 'run r1 failed: boom (1 timeout)',
    });
  });
});
