import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import { SlurmClient } from '../../slurm-bridge/slurm/client.js';
import { isFound, type JobInfo, type JobLookup } from '../../slurm-bridge/slurm/job-info.js';
import { SbatchError } from '../../slurm-bridge/slurm/sbatch.js';
import { buildScontrolShowJobCommand, parseScontrolJobs } from '../../slurm-bridge/slurm/scontrol.js';
import { isTerminal } from '../../slurm-bridge/slurm/states.js';
import type { ExecFunction, SshConnection } from '../../slurm-bridge/ssh/connection.js';
import { requireHpc } from '../sandbox/description.js';
import { connectToSandbox, waitFor } from './sandbox-connection.js';

const hpc = requireHpc();
const tag = `ibo-test-${randomUUID()}`;
let connection: SshConnection;
let slurm: SlurmClient;
let commandsSent = 0;
const submitted: string[] = [];

function script(body: string): string {
  return `#!/bin/bash\n${body}\n`;
}

async function submit(name: string, body: string, extra: Partial<Parameters<SlurmClient['submit']>[0]> = {}) {
  const id = await slurm.submit({
    script: script(body),
    name,
    partition: 'cpu',
    tag,
    output: `${hpc.slurm.jobOutputDir}/%x-%j.out`,
    // A finite limit lets backfill start our short jobs beside other helpers' pending ones.
    time: '5',
    ...extra,
  });
  submitted.push(id);
  return id;
}

async function untilTerminal(id: string, timeoutMs = 60_000): Promise<JobInfo> {
  return waitFor(
    `job ${id} to finish`,
    async () => {
      const job = (await slurm.queryJobs([id])).get(id);
      return job && isFound(job) && isTerminal(job.state) ? job : undefined;
    },
    { timeoutMs, intervalMs: 1000 },
  );
}

beforeAll(async () => {
  connection = connectToSandbox();
  const exec: ExecFunction = (command, options) => {
    commandsSent += 1;
    return connection.exec(command, options);
  };
  slurm = new SlurmClient(exec);
});

afterAll(async () => {
  if (submitted.length > 0) await slurm.cancel(submitted);
  await connection.close();
});

describe('SlurmClient against the sandbox (Slurm 22.05.8)', () => {
  it('reads the cluster: version and both partitions with CPUs and memory', async () => {
    const info = await slurm.clusterInfo();
    expect(info.slurmVersion).toBe(hpc.slurm.version);
    expect(info.partitions.map((p) => p.name).sort()).toEqual([...hpc.slurm.partitions].sort());
    for (const partition of info.partitions) {
      expect(partition.state).toBe('up');
      expect(partition.cpusTotal).toBeGreaterThan(0);
      expect(partition.memoryPerNodeMB).toBeGreaterThan(0);
    }
  });

  it('submits 20 jobs, reads all of them in ONE remote command, finds them by tag and cancels them', async () => {
    // 4 run, 16 are held: the sandbox's 8 CPUs are shared with other tests, so most of the batch must not
    // take a CPU. Held jobs still exercise the batch query, and their pending reason is known at once.
    const ids: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const hold = i >= 4 ? { extraDirectives: { hold: null } } : {};
      ids.push(await submit(`batch-${i}`, 'sleep 300', { memGB: 0.1, ...hold }));
    }
    const before = commandsSent;
    const answers = await slurm.queryJobs(ids);
    expect(commandsSent - before).toBe(1);
    expect([...answers.keys()].sort()).toEqual([...ids].sort());
    const states = [...answers.values()].map((job) => job.state);
    expect(states.every((state) => state === 'RUNNING' || state === 'PENDING')).toBe(true);
    const held = ids.slice(4).map((id) => answers.get(id));
    expect(
      held.every((job) => job && isFound(job) && job.state === 'PENDING' && job.reason === 'JobHeldUser'),
    ).toBe(true);

    const found = await slurm.findJobsByTag(tag);
    expect(found.map((job) => job.id).sort()).toEqual(expect.arrayContaining([...ids].sort()));
    expect(await slurm.findJobsByTag(`${tag}-nobody`)).toEqual([]);

    await slurm.cancel(ids);
    await slurm.cancel(ids); // idempotent
    await slurm.cancel(['999999']); // unknown id: still fine
    const final = await waitFor('all 20 cancelled', async () => {
      const now = await slurm.queryJobs(ids);
      return [...now.values()].every((job) => job.state === 'CANCELLED') ? now : undefined;
    });
    expect(
      [...final.values()].every((job: JobLookup) => isFound(job) && job.failureReason === 'Cancelled'),
    ).toBe(true);
  });

  it('reads the final state and exit code of jobs that have left squeue', async () => {
    const ok = await submit('finishes-ok', 'echo done');
    const bad = await submit('finishes-bad', 'echo failing >&2; exit 3');
    const okJob = await untilTerminal(ok);
    const badJob = await untilTerminal(bad);
    // Plain squeue (what a user sees) no longer lists them.
    const plain = await connection.exec(`squeue --noheader --jobs=${shellQuote(`${ok},${bad}`)}`);
    expect(plain.stdout.trim()).toBe('');
    expect(okJob).toMatchObject({ state: 'COMPLETED', exitCode: 0, failureReason: null });
    expect(badJob).toMatchObject({ state: 'FAILED', exitCode: 3, failureReason: 'NonZeroExit' });
    // With accounting the final answer comes from sacct, which (in 22.05) has no log paths; scontrol,
    // asked directly while slurmctld still knows the job, has them.
    expect(badJob.source).toBe(hpc.slurm.accounting ? 'sacct' : 'scontrol');
    const described = parseScontrolJobs((await connection.exec(buildScontrolShowJobCommand(bad))).stdout)[0];
    expect(described?.stdoutPath).toBe(`${hpc.slurm.jobOutputDir}/finishes-bad-${bad}.out`);
    // Cached: asking again costs no remote command, and survives Slurm's MinJobAge purge.
    const before = commandsSent;
    expect((await slurm.queryJobs([bad])).get(bad)).toMatchObject({
      state: 'FAILED',
      exitCode: 3,
      source: 'cache',
    });
    expect(commandsSent).toBe(before);
  });

  it('reports an unknown id as NotFound', async () => {
    expect((await slurm.queryJobs(['987654'])).get('987654')).toEqual({ id: '987654', state: 'NotFound' });
  });

  it('keeps hostile strings as data: a name is sanitised, a script path and a directive value are quoted', async () => {
    await connection.exec('rm -f /tmp/pwned-ibo-sbatch');
    const hostile =
      'x; touch /tmp/pwned-ibo-sbatch $(touch /tmp/pwned-ibo-sbatch) `touch /tmp/pwned-ibo-sbatch` \'"\n';
    const id = await submit(hostile, 'true', {
      error: `${hpc.slurm.jobOutputDir}/${hostile.replace(/[\n/]/g, '_')}.err`,
      extraDirectives: { 'mail-user': hostile },
    });
    const job = await untilTerminal(id);
    expect(job.name).toMatch(/^[A-Za-z0-9._-]+$/);
    expect((await connection.exec('test -e /tmp/pwned-ibo-sbatch; echo $?')).stdout.trim()).toBe('1');
  });

  it('refuses hostile Slurm names and a tag override before anything is sent', async () => {
    const before = commandsSent;
    await expect(submit('x', 'true', { account: 'acct; touch /tmp/pwned-ibo-sbatch' })).rejects.toThrow(
      /account/,
    );
    await expect(submit('x', 'true', { partition: 'cpu\ngpu' })).rejects.toThrow(/partition/);
    await expect(submit('x', 'true', { extraDirectives: { comment: 'not-the-tag' } })).rejects.toThrow(
      /client itself/,
    );
    expect(commandsSent).toBe(before);
  });

  it('turns sbatch refusals into typed reasons', async () => {
    await expect(submit('bad-partition', 'true', { partition: 'no-such-partition' })).rejects.toMatchObject({
      reason: 'InvalidPartition',
    });
    await expect(submit('too-much-memory', 'true', { memGB: 100_000 })).rejects.toBeInstanceOf(SbatchError);
    await expect(submit('too-much-memory', 'true', { memGB: 100_000 })).rejects.toMatchObject({
      reason: 'BadConstraints',
    });
  });

  it('exposes a pending reason that will never clear', async () => {
    const id = await submit('too-many-cpus', 'true', { cpus: 64 });
    const job = await waitFor('a pending reason', async () => {
      const found = (await slurm.queryJobs([id])).get(id);
      return found && isFound(found) && found.reason && found.reason !== 'None' ? found : undefined;
    });
    expect(job).toMatchObject({ state: 'PENDING', reason: 'PartitionConfig' });
    await slurm.cancel([id]);
  });

  it('reads a job killed by its time limit as TIMEOUT', async () => {
    const id = await submit('hits-time-limit', 'sleep 600', { time: '1' });
    const job = await untilTerminal(id, 170_000);
    expect(job).toMatchObject({ state: 'TIMEOUT', failureReason: 'Timeout' });
  }, 200_000);
});
