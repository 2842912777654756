import { describe, expect, it } from 'vitest';
import type { BenchmarkResults } from '../../../../crds/index.js';
import { runStatus } from '../test-harness.js';
import { judgeRun } from './run.js';

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
