import { describe, expect, it } from 'vitest';
import type { JobInfo, JobLookup, JobState } from '../../slurm-bridge/index.js';
import { FakeClock } from '../runtime/clock.js';
import { BatchedJobWatcher } from './job-watcher.js';

function job(id: string, state: JobState, source: JobInfo['source'] = 'squeue'): JobInfo {
  return {
    id,
    name: `job-${id}`,
    state,
    rawState: state,
    reason: null,
    nodeList: state === 'PENDING' ? null : 'localhost',
    nodes: [],
    partition: 'cpu',
    account: null,
    user: 'hpcuser',
    comment: null,
    submitTime: null,
    startTime: null,
    endTime: null,
    timeLimit: null,
    exitCode: null,
    exitSignal: null,
    stdoutPath: null,
    stderrPath: null,
    failureReason: null,
    source,
  };
}

/** A fake Slurm whose job states the test sets, recording every batched query. */
function harness() {
  const clock = new FakeClock();
  const slurm = new Map<string, JobLookup>();
  const queries: string[][] = [];
  const changes: string[] = [];
  const watcher = new BatchedJobWatcher({
    clock,
    query: async (ids) => {
      queries.push([...ids]);
      return new Map(ids.map((id) => [id, slurm.get(id) ?? { id, state: 'NotFound' as const }]));
    },
    onChange: (owner) => changes.push(owner),
    fastIntervalMs: 2_000,
    slowIntervalMs: 15_000,
    fastWindowMs: 10_000,
  });
  return { clock, slurm, queries, changes, watcher };
}

describe('BatchedJobWatcher', () => {
  it('should ask for the jobs of fifty owners in one query per poll', async () => {
    const h = harness();
    for (let i = 0; i < 50; i++) {
      h.slurm.set(String(100 + i), job(String(100 + i), 'RUNNING'));
      h.watcher.watch(`ns/bench-${i}`, [String(100 + i)]);
    }
    h.watcher.start();
    await h.clock.advance(1_000);
    expect(h.queries).toHaveLength(1);
    expect(h.queries[0]).toHaveLength(50);
    expect(h.watcher.polls).toBe(1);
  });

  it('should wake an owner once when its job changes, and not when nothing changed', async () => {
    const h = harness();
    h.slurm.set('7', job('7', 'PENDING'));
    h.watcher.watch('ns/a', ['7']);
    h.watcher.watch('ns/b', ['8']);
    h.slurm.set('8', job('8', 'RUNNING'));
    h.watcher.start();
    await h.clock.advance(500);
    expect(h.changes.sort()).toEqual(['ns/a', 'ns/b']);
    h.changes.length = 0;
    await h.clock.advance(2_000);
    expect(h.changes).toEqual([]);
    h.slurm.set('7', job('7', 'RUNNING'));
    await h.clock.advance(2_000);
    expect(h.changes).toEqual(['ns/a']);
    expect(h.watcher.get('7')?.state).toBe('RUNNING');
  });

  it('should poll fast while a job is pending and slow once everything is steady', async () => {
    const h = harness();
    h.slurm.set('1', job('1', 'PENDING'));
    h.watcher.watch('ns/a', ['1']);
    h.watcher.start();
    await h.clock.advance(20_000);
    const fastPolls = h.queries.length;
    expect(fastPolls).toBeGreaterThanOrEqual(9);
    h.slurm.set('1', job('1', 'RUNNING'));
    await h.clock.advance(2_000);
    const before = h.queries.length;
    await h.clock.advance(30_000);
    expect(h.queries.length - before).toBe(2);
  });

  it('should stop asking for a job once scontrol reported its end, and send no query with nothing to ask', async () => {
    const h = harness();
    h.slurm.set('5', job('5', 'COMPLETED', 'squeue'));
    h.watcher.watch('ns/a', ['5']);
    h.watcher.start();
    await h.clock.advance(500);
    expect(h.queries).toEqual([['5']]);
    h.slurm.set('5', { ...job('5', 'COMPLETED', 'scontrol'), exitCode: 0 });
    await h.clock.advance(2_000);
    expect(h.queries).toHaveLength(2);
    await h.clock.advance(60_000);
    expect(h.queries).toHaveLength(2);
    expect(h.watcher.get('5')).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
  });

  it('should take a finished state from sacct as final at once, and never ask for that job again', async () => {
    const h = harness();
    h.slurm.set('6', { ...job('6', 'TIMEOUT', 'sacct'), exitCode: 0, exitSignal: 0 });
    h.watcher.watch('ns/a', ['6']);
    h.watcher.start();
    await h.clock.advance(500);
    await h.clock.advance(120_000);
    expect(h.queries).toEqual([['6']]);
    expect(h.watcher.get('6')).toMatchObject({ state: 'TIMEOUT', source: 'sacct' });
  });

  it('should let several submits share the next query when expedited', async () => {
    const h = harness();
    h.watcher.start();
    await h.clock.advance(20_000);
    for (const id of ['1', '2', '3']) {
      h.slurm.set(id, job(id, 'PENDING'));
      h.watcher.watch(`ns/${id}`, [id]);
    }
    await h.clock.advance(400);
    expect(h.queries).toEqual([['1', '2', '3']]);
  });

  it('should never query more than once per fast interval, however many submits expedite it', async () => {
    const h = harness();
    h.watcher.start();
    await h.clock.advance(20_000);
    // A submit every 100 ms for 10 s: expedites must not turn into a query each.
    for (let i = 0; i < 100; i++) {
      const id = String(100 + i);
      h.slurm.set(id, job(id, 'PENDING'));
      h.watcher.watch(`ns/${id}`, [id]);
      await h.clock.advance(100);
    }
    expect(h.queries.length).toBeGreaterThanOrEqual(4);
    expect(h.queries.length).toBeLessThanOrEqual(10_000 / 2_000 + 1);
  });

  it('should keep the last known states when a query fails, and report the error', async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    let fail = false;
    const watcher = new BatchedJobWatcher({
      clock,
      query: async (ids) => {
        if (fail) throw new Error('ssh down');
        return new Map(ids.map((id) => [id, job(id, 'RUNNING')]));
      },
      onChange: () => undefined,
      onError: (error) => errors.push(error),
    });
    watcher.watch('ns/a', ['9']);
    watcher.start();
    await clock.advance(500);
    fail = true;
    await clock.advance(20_000);
    expect(errors.length).toBeGreaterThan(0);
    expect(watcher.get('9')?.state).toBe('RUNNING');
  });

  it('should forget the states of jobs nobody watches any more', async () => {
    const h = harness();
    h.slurm.set('4', job('4', 'RUNNING'));
    h.watcher.watch('ns/a', ['4']);
    h.watcher.start();
    await h.clock.advance(500);
    h.watcher.unwatch('ns/a');
    expect(h.watcher.get('4')).toBeUndefined();
  });
});
