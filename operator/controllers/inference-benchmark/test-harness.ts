/** A benchmark reconciler over fakes: a cluster in memory, a cache of one object, recorded writes. */
import pino from 'pino';
import type { RunStatus } from '../../../client-service/api-schema.js';
import {
  BENCHMARK_FINALIZER,
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

export const UID = '0b7c3f4e-1111-2222-3333-444455556666';
export const log = pino({ level: 'silent' });
export const signal = new AbortController().signal;

export function job(id: string, state: JobInfo['state'], extra: Partial<JobInfo> = {}): JobInfo {
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
export class FakeCluster {
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
  /** Commands run on the login node of the latest session (the $HOME lookup). */
  execs = 0;
  /** The next sbatch runs, then the connection drops before its answer arrives. */
  dropAfterNextSubmit = false;
  private nextId = 100;

  /** A session of the SlurmCluster; another `login` (a changed host or user) is another session. */
  session(login: { user?: string; host?: string; home?: string } = {}): ClusterSession {
    const user = login.user ?? 'hpcuser';
    this.execs = 0;
    const fake = {
      key: 'team/sandbox',
      spec: {
        host: login.host ?? 'login',
        port: 22,
        user,
        containerRuntime: 'native',
        defaults: { serverPartition: 'cpu', clientPartition: 'cpu' },
      },
      workDir: '/home/hpcuser/hpcbench',
      connection: {
        exec: async () => {
          this.execs++;
          return { code: 0, stdout: login.home ?? `/home/${user}`, stderr: '' };
        },
      },
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

export function runStatus(state: RunStatus['state']): RunStatus {
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
      stage: 1,
      stages: 1,
      repeat: 1,
      repeats: 1,
      stageCompleted: done ? 4 : 1,
      stageTotal: 4,
      display: `stage 1/1, ${done ? 4 : 1}/4 requests`,
    },
    stages: [],
    saturation: {
      load: 'clients',
      threshold: 0.1,
      peakOutputTokensPerSecond: null,
      peakRequestsPerSecond: null,
      knee: null,
      maxSloLoad: null,
      sloMetAnywhere: null,
      stoppedAfterStage: null,
      stopReason: null,
    },
    warnings: [],
    summary: {
      runId: `${UID}-g1`,
      counts: { requests: 4, succeeded: done ? 4 : 1, failed: 0, warmup: 0 },
      tokens: {
        output: 64,
        prompt: 40,
        estimatedOutputRequests: 0,
        promptPerRequest: { p50: 10, p90: 10, p99: 10 },
        outputPerRequest: { p50: 16, p90: 16, p99: 16 },
      },
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
    environment: null,
    promptsFile: null,
  };
}

export const validSpec: InferenceBenchmarkSpecInput = {
  clusterRef: { name: 'sandbox' },
  model: { name: 'gemma3:270m' },
  slurm: { memGB: 2 },
  workload: { clients: 2, requestsPerClient: 2, maxTokens: 16 },
  monitoring: { enabled: false },
};

export interface Harness {
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
  /** One reconcile, then the one the informer would start at once when it wrote a new place in line. */
  reconcile(): Promise<{ requeueAfterMs?: number } | undefined>;
  /** Exactly one reconcile. */
  reconcileOnce(): Promise<{ requeueAfterMs?: number } | undefined>;
}

export function harness(overrides: Partial<BenchmarkObject> = {}): Harness {
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
    reconcileOnce: () => h.reconciler.reconcile({ namespace: 'team', name: 'bench' }, { log, signal }),
    // The status write of a new place wakes the benchmark through the informer at once; emulate that event.
    reconcile: async () => {
      const before = h.object.status?.admission;
      const result = await h.reconcileOnce();
      const after = h.object.status?.admission;
      return after !== undefined && after !== before && before?.runId !== after.runId
        ? h.reconcileOnce()
        : result;
    },
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

export function condition(status: InferenceBenchmarkStatus | undefined, type: string): Condition | undefined {
  return (status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
}
