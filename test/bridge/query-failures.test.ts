import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlurmClient } from '../../slurm-bridge/slurm/client.js';
import { isFound, type JobInfo } from '../../slurm-bridge/slurm/job-info.js';
import { buildBatchQueryCommand, parseBatchQueryOutput } from '../../slurm-bridge/slurm/query.js';
import { buildSacctCommand, parseSacctOutput } from '../../slurm-bridge/slurm/sacct.js';
import { buildScontrolShowJobCommand, parseScontrolJobs } from '../../slurm-bridge/slurm/scontrol.js';
import { isTerminal } from '../../slurm-bridge/slurm/states.js';
import type { SshConnection } from '../../slurm-bridge/ssh/connection.js';
import { CommandFailedError } from '../../slurm-bridge/ssh/errors.js';
import { requireHpc } from '../sandbox/description.js';
import { failingBody, withCommandWrappers, withFailingCommands } from '../support/login-faults.js';
import { connectToSandbox, waitFor } from './sandbox-connection.js';

/**
 * The batch query against the sandbox's real Slurm and accounting (slurmdbd), through the login node:
 * final states come from sacct, purged jobs are still known there, and a failing squeue or scontrol makes
 * the query throw instead of reading every job as gone.
 */
const hpc = requireHpc();
const tag = `ibo-test-${randomUUID()}`;
let connection: SshConnection;
const submitted: string[] = [];

function client(): SlurmClient {
  // A fresh client per question: the finished-job cache must not answer for Slurm.
  return new SlurmClient(connection.execFunction);
}

async function submit(name: string, body: string, time = '5'): Promise<string> {
  const id = await client().submit({
    script: `#!/bin/bash\n${body}\n`,
    name,
    partition: 'cpu',
    tag,
    time,
    memGB: 0.1,
    output: `${hpc.slurm.jobOutputDir}/%x-%j.out`,
  });
  submitted.push(id);
  return id;
}

/** Waits until the batch query reads the job as ended; returns that answer. */
async function untilFinal(id: string, timeoutMs = 60_000): Promise<JobInfo> {
  return waitFor(
    `job ${id} to end`,
    async () => {
      const job = (await client().queryJobs([id])).get(id);
      return job && isFound(job) && isTerminal(job.state) && job.source !== 'squeue' ? job : undefined;
    },
    { timeoutMs, intervalMs: 1000 },
  );
}

async function scontrolOf(id: string): Promise<JobInfo | undefined> {
  return parseScontrolJobs((await connection.exec(buildScontrolShowJobCommand(id))).stdout)[0];
}

beforeAll(() => {
  if (!hpc.slurm.accounting)
    throw new Error('the sandbox has no accounting: run `bash test/sandbox/sandbox up`');
  connection = connectToSandbox();
});

afterAll(async () => {
  if (submitted.length > 0) await client().cancel(submitted);
  await connection.close();
});

describe('final job states from sacct (slurmdbd in the sandbox)', () => {
  it('reads a failed and a cancelled job from sacct, agreeing with scontrol on state and exit code', async () => {
    const failed = await submit('acct-fails', 'echo failing >&2; exit 3');
    const cancelled = await submit('acct-cancelled', 'sleep 300');
    await waitFor('the sleeper to run', async () => {
      const job = (await client().queryJobs([cancelled])).get(cancelled);
      return job && isFound(job) && job.state === 'RUNNING' ? true : undefined;
    });
    await client().cancel([cancelled]);
    const failedJob = await untilFinal(failed);
    const cancelledJob = await untilFinal(cancelled);
    expect(failedJob).toMatchObject({
      state: 'FAILED',
      exitCode: 3,
      failureReason: 'NonZeroExit',
      source: 'sacct',
      comment: tag,
    });
    expect(cancelledJob).toMatchObject({ state: 'CANCELLED', failureReason: 'Cancelled', source: 'sacct' });
    expect(cancelledJob.rawState).toMatch(/^CANCELLED by \d+$/);
    for (const job of [failedJob, cancelledJob]) {
      const fromScontrol = await scontrolOf(job.id);
      expect(fromScontrol).toMatchObject({ state: job.state, exitCode: job.exitCode });
      expect(job.endTime?.getTime()).toBe(fromScontrol?.endTime?.getTime());
    }
  });

  it('knows a job squeue and scontrol no longer know (purged), from sacct alone', async () => {
    const id = await submit('acct-purged', 'exit 0');
    await untilFinal(id);
    // slurmctld forgets a job MinJobAge (300 s) after its end; make squeue and scontrol answer as they then
    // do, while sacct (the real one) keeps answering.
    const purged = failingBody('x', 'slurm_load_jobs error: Invalid job id specified');
    const answer = await withCommandWrappers(hpc, { squeue: purged, scontrol: purged }, async () => {
      const raw = await connection.exec(buildBatchQueryCommand([id, '987654']));
      return { raw, jobs: await client().queryJobs([id, '987654']) };
    });
    expect(answer.raw.code).toBe(0);
    expect(answer.jobs.get(id)).toMatchObject({ state: 'COMPLETED', exitCode: 0, source: 'sacct' });
    expect(answer.jobs.get('987654')).toEqual({ id: '987654', state: 'NotFound' });
    expect(parseBatchQueryOutput([id], answer.raw.stdout).complete).toBe(true);
  });

  it('reads a job killed by its time limit as TIMEOUT from sacct', async () => {
    const id = await submit('acct-timeout', 'sleep 600', '1');
    const job = await untilFinal(id, 170_000);
    expect(job).toMatchObject({ state: 'TIMEOUT', failureReason: 'Timeout', source: 'sacct' });
    const direct = parseSacctOutput((await connection.exec(buildSacctCommand([id]))).stdout);
    expect(direct).toEqual([expect.objectContaining({ id, state: 'TIMEOUT', exitCode: job.exitCode })]);
  }, 200_000);
});

describe('a batch query while the login node cannot run squeue or scontrol', () => {
  it('throws CommandFailedError instead of reading a running job as gone, and reads it again afterwards', async () => {
    const id = await submit('query-through-failure', 'sleep 300');
    await waitFor('the job to run', async () => {
      const job = (await client().queryJobs([id])).get(id);
      return job && isFound(job) && job.state === 'RUNNING' ? true : undefined;
    });
    await withFailingCommands(hpc, ['squeue', 'scontrol'], async () => {
      const error = await client()
        .queryJobs([id])
        .then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
      expect(error).toBeInstanceOf(CommandFailedError);
      expect(String(error)).toMatch(/Unable to contact slurm controller/);
    });
    // squeue failing alone is enough: scontrol is never reached.
    await withFailingCommands(hpc, ['squeue'], async () => {
      await expect(client().queryJobs([id])).rejects.toBeInstanceOf(CommandFailedError);
    });
    expect((await client().queryJobs([id])).get(id)).toMatchObject({ state: 'RUNNING', source: 'squeue' });
  });

  it('throws when scontrol alone fails for a job that squeue shows finished', async () => {
    const id = await submit('query-scontrol-fails', 'exit 0');
    await untilFinal(id);
    // sacct missing (exit 127) sends the finished job to scontrol, which fails.
    await withCommandWrappers(
      hpc,
      { sacct: 'echo "sacct: not found" >&2; exit 127', scontrol: failingBody('scontrol') },
      async () => {
        await expect(client().queryJobs([id])).rejects.toThrow(/scontrol exited with 1/);
      },
    );
  });

  it('falls back to scontrol when sacct says accounting is disabled', async () => {
    const id = await submit('query-no-accounting', 'exit 4');
    await untilFinal(id);
    await withCommandWrappers(
      hpc,
      { sacct: failingBody('sacct', 'Slurm accounting storage is disabled') },
      async () => {
        expect((await client().queryJobs([id])).get(id)).toMatchObject({
          state: 'FAILED',
          exitCode: 4,
          source: 'scontrol',
        });
      },
    );
  });
});
