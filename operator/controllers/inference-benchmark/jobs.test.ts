import { describe, expect, it } from 'vitest';
import { condition, harness, job, UID } from './test-harness.js';

describe('the jobs of a run: submit, adopt, wait, fail', () => {
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

  it('adopts a job carrying the run tag instead of submitting a second one after a crash before the status write', async () => {
    const h = harness();
    h.cluster.jobsByTag.push(
      job('77', 'RUNNING', { name: 'ibo-server-team-bench', comment: `ibo.${UID}.g1` }),
    );
    await h.reconcile();
    expect(h.cluster.submits).toEqual([]);
    expect(h.writes.at(-1)?.slurmJobs?.[0]?.id).toBe('77');
  });

  it("lists the run's jobs by tag right before each sbatch, none while nothing is submitted, and adopts an sbatch whose answer was lost", async () => {
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
    // The server runs: the client's sbatch gets a listing of its own, right before it.
    h.cluster.everythingUp('100', '101');
    await h.reconcile();
    expect(h.cluster.submits.map((s) => s.name)).toEqual(['ibo-server-team-bench', 'ibo-client-team-bench']);
    expect(h.cluster.listings).toBe(3);
    await h.reconcile();
    expect(h.cluster.listings).toBe(3);
  });

  it('adopts a job an overlapping old leader submitted after this process last listed the jobs', async () => {
    const h = harness();
    await h.reconcile(); // the server: listed, submitted
    h.cluster.everythingUp('100', '101');
    // Another process submitted the client job meanwhile, without writing status yet.
    h.cluster.jobsByTag.push(
      job('90', 'PENDING', { name: 'ibo-client-team-bench', comment: `ibo.${UID}.g1` }),
    );
    await h.reconcile();
    expect(h.cluster.submits.map((s) => s.name)).toEqual(['ibo-server-team-bench']);
    expect(h.writes.at(-1)?.slurmJobs?.map((j) => j.id)).toEqual(['100', '90']);
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
