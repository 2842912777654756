import { describe, expect, it } from 'vitest';
import type { InferenceBenchmarkStatus } from '../../../../crds/index.js';
import type { BenchmarkObject } from '../context.js';
import { condition, harness, UID, validSpec } from '../test-harness.js';

describe("admit: the cluster's maxActiveBenchmarks", () => {
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
    h.object = {
      ...h.object,
      status: {
        phase: 'Failed',
        runId: `${UID}-g1`,
        slurmJobs: [],
        admission: { runId: `${UID}-g1`, admittedAt: '2026-01-01T00:00:00Z' },
      },
    };
    await h.reconcile();
    expect(h.object.status?.admission).toBeUndefined();
    await h.reconcile();
    expect(h.woken).toEqual(['team/sandbox']);
  });

  it('writes the place to status before the first sbatch, and submits only on the next reconcile', async () => {
    const h = harness();
    h.clusterObject = { metadata: { name: 'sandbox', namespace: 'team' }, spec: { maxActiveBenchmarks: 1 } };
    expect(await h.reconcileOnce()).toEqual({ requeueAfterMs: 1_000 });
    expect(h.object.status?.admission).toMatchObject({ runId: `${UID}-g1` });
    expect(h.cluster.submits).toEqual([]);
    await h.reconcileOnce();
    expect(h.cluster.submits).toHaveLength(1);
  });

  it('a restarted process decides the same from status alone: a place held there is not given twice', async () => {
    const h = harness();
    h.clusterObject = { metadata: { name: 'sandbox', namespace: 'team' }, spec: { maxActiveBenchmarks: 1 } };
    h.object.metadata = { ...h.object.metadata, creationTimestamp: new Date('2026-01-01T00:00:10Z') };
    // An earlier benchmark got the place from the previous leader; its sbatch has not shown in status yet.
    h.others = [
      {
        metadata: { name: 'first', namespace: 'team', creationTimestamp: new Date('2026-01-01T00:00:00Z') },
        spec: validSpec,
        status: {
          phase: 'Pending',
          runId: 'r1',
          admission: { runId: 'r1', admittedAt: '2026-01-01T00:00:01Z' },
        },
      },
    ];
    await h.reconcile();
    expect(h.object.status?.admission).toBeUndefined();
    expect(h.object.status?.phase).toBe('Queued');
    expect(h.cluster.submits).toEqual([]);
  });
});
