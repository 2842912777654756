import { describe, expect, it } from 'vitest';
import { BENCHMARK_FINALIZER, FORCE_DELETE_ANNOTATION } from '../../../../crds/index.js';
import type { BenchmarkObject } from '../context.js';
import { condition, harness, job, UID } from '../test-harness.js';

/** A benchmark being deleted, with `extra` metadata (a generation, the force annotation). */
function deleting(
  extra: { generation?: number; annotations?: Record<string, string> } = {},
  status: BenchmarkObject['status'] = {
    admission: { runId: `${UID}-g1`, admittedAt: '2026-12-04T00:00:00Z' },
  },
) {
  return harness({
    status,
    metadata: {
      name: 'bench',
      namespace: 'team',
      uid: UID,
      generation: 1,
      finalizers: [BENCHMARK_FINALIZER],
      deletionTimestamp: new Date(),
      ...extra,
    },
  });
}

describe('deletion', () => {
  it('keeps the finalizer and says how to force removal while the cluster is unreachable during deletion', async () => {
    const h = deleting();
    h.setSession({ ok: false, reason: 'ClusterNotReady', message: 'SSH down' });
    expect(await h.reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(h.finalizerOps).toEqual([]);
    expect(condition(h.writes.at(-1), 'Ready')?.message).toContain(FORCE_DELETE_ANNOTATION);
  });

  it('removes the finalizer at once when the benchmark never submitted a job (never admitted, no job in status), even with no cluster', async () => {
    const h = deleting({}, {});
    h.setSession({ ok: false, reason: 'ClusterNotFound', message: 'slurmcluster "nope" not found' });
    expect(await h.reconcile()).toBeUndefined();
    expect(h.finalizerOps).toEqual(['remove']);
    expect(h.cluster.cancels).toEqual([]);
  });

  it('keeps the finalizer of a finished run (jobs in status, admission released) while the cluster is unreachable', async () => {
    const h = deleting({}, {
      slurmJobs: [{ role: 'server', id: '7', state: 'COMPLETED' }],
    } as BenchmarkObject['status']);
    h.setSession({ ok: false, reason: 'ClusterNotReady', message: 'SSH down' });
    expect(await h.reconcile()).toEqual({ requeueAfterMs: 10_000 });
    expect(h.finalizerOps).toEqual([]);
  });

  it('removes the finalizer without cancelling when an admin forces deletion of an unreachable cluster', async () => {
    const h = deleting({ annotations: { [FORCE_DELETE_ANNOTATION]: 'true' } });
    h.setSession({ ok: false, reason: 'ClusterNotReady', message: 'SSH down' });
    await h.reconcile();
    expect(h.finalizerOps).toEqual(['remove']);
  });

  it('cancels every live job of every run found by tag before removing the finalizer on deletion', async () => {
    const h = deleting({ generation: 2 });
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
});
