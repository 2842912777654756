import { describe, expect, it } from 'vitest';
import { condition, harness, job, UID, validSpec } from './test-harness.js';

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
    expect(settled?.admission).toBeDefined();
    h.setSession({
      ok: false,
      reason: 'ClusterNotReady',
      message: 'SlurmCluster team/sandbox is not connected yet',
    });
    const writes = h.writes.length;
    await h.reconcile();
    // Nothing is written while the jobs cannot be cleaned up: conditions, phase and results stay as they were.
    expect(h.writes.length).toBe(writes);
    expect(h.object.status).toEqual(settled);
    expect(condition(h.object.status, 'Ready')?.status).toBe('True');
    // Back online: the jobs are cancelled (from status and by tag), the place is given back, Ready stays.
    h.setSession('up');
    await h.reconcile();
    expect(h.cluster.cancels).toEqual([['100', '101']]);
    expect(h.object.status?.admission).toBeUndefined();
    expect(condition(h.object.status, 'Ready')?.status).toBe('True');
  });

  it('cancels by tag, on the first look at the end, a job of the run that never reached status', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    await h.reconcile();
    // A third job with the run's tag: submitted by a process that died before it could write status.
    h.cluster.jobsByTag.push(
      job('102', 'RUNNING', { name: 'ibo-client-team-bench', comment: `ibo.${UID}.g1` }),
    );
    h.cluster.runState = 'succeeded';
    await h.reconcile();
    await h.reconcile();
    expect(h.cluster.cancels).toEqual([['100', '101', '102']]);
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

  it('leaves no token, endpoint, job or pull of a run in memory once the run settled', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    await h.reconcile();
    expect(h.reconciler.cacheSizes()).toMatchObject({ runs: 1, tokens: 1, endpoints: 2, jobs: 2 });
    h.cluster.runState = 'succeeded';
    await h.reconcile(); // the end is written
    await h.reconcile(); // and read back: settleRun
    expect(h.reconciler.cacheSizes()).toEqual({ runs: 0, tokens: 0, endpoints: 0, jobs: 0 });
  });

  it('forgets every run of a deleted benchmark', async () => {
    const h = harness();
    await h.reconcile();
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    expect(h.reconciler.cacheSizes().runs).toBe(1);
    h.object = {
      ...h.object,
      metadata: { ...h.object.metadata, deletionTimestamp: new Date() },
    };
    await h.reconcile();
    expect(h.finalizerOps).toEqual(['remove']);
    expect(h.reconciler.cacheSizes()).toEqual({ runs: 0, tokens: 0, endpoints: 0, jobs: 0 });
  });
});
