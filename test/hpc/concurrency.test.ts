import { afterAll, describe, expect, it } from 'vitest';
import { requireHpc } from '../sandbox/description.js';
import { cancelJobs, jobScript, jobStates, submitJob } from '../support/slurm.js';
import { waitFor } from '../support/wait.js';

// A benchmark needs a monitoring job, an Ollama job and a client job at once, and tests run several
// benchmarks: the 2-core node must run at least six jobs side by side.
describe('the SLURM node', () => {
  const hpc = requireHpc();
  const ids: string[] = [];

  afterAll(async () => {
    await cancelJobs(hpc.ssh, ids).catch(() => undefined);
  });

  it('runs six jobs at the same time across both partitions', async () => {
    for (let i = 0; i < 6; i++) {
      const options = i % 2 === 0 ? ['--partition=cpu'] : ['--partition=gpu', '--gres=gpu:1'];
      ids.push(await submitJob(hpc.ssh, jobScript('sleep'), options));
    }
    const states = await waitFor(
      'six jobs RUNNING in one squeue',
      async () => {
        const seen = await jobStates(hpc.ssh, ids);
        if (ids.every((id) => seen.get(id) === 'RUNNING')) return seen;
        throw new Error(`states: ${JSON.stringify(Object.fromEntries(seen))}`);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect([...states.values()]).toEqual(Array(6).fill('RUNNING'));
  });
});
