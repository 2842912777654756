import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExecFunction, ExecOptions, ExecResult } from '../ssh/connection.js';
import { CommandFailedError } from '../ssh/errors.js';
import { SlurmClient } from './client.js';
import { QUERY_END_MARK } from './query.js';
import { buildSbatchCommand, sanitizeJobName } from './sbatch.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8');

function fakeExec(answers: Array<Partial<ExecResult>>) {
  const calls: Array<{ command: string; options?: ExecOptions }> = [];
  const exec: ExecFunction = async (command, options) => {
    calls.push({ command, options });
    const next = answers.shift() ?? {};
    return { stdout: '', stderr: '', code: 0, truncated: false, ...next };
  };
  return { exec, calls };
}

describe('SlurmClient with a fake exec', () => {
  it('sends the script on stdin, never on the command line, and returns the id', async () => {
    const { exec, calls } = fakeExec([{ stdout: '42\n' }]);
    const id = await new SlurmClient(exec).submit({
      script: '#!/bin/sh\necho $(secret)\n',
      name: 'n',
      tag: 'uid-1',
    });
    expect(id).toBe('42');
    expect(calls[0]?.options?.stdin).toContain('echo $(secret)');
    expect(calls[0]?.command).not.toContain('secret');
    expect(calls[0]?.command).toContain(`'--comment=uid-1'`);
  });

  it('throws a typed SbatchError with the stderr tail when sbatch refuses', async () => {
    const { exec } = fakeExec([{ code: 1, stderr: fixture('sbatch-invalid-partition.stderr.txt') }]);
    await expect(new SlurmClient(exec).submit({ script: 'x', name: 'n' })).rejects.toMatchObject({
      reason: 'InvalidPartition',
      exitCode: 1,
    });
  });

  it('queries many jobs in one command and serves finished ones from the cache afterwards', async () => {
    const { exec, calls } = fakeExec([{ stdout: fixture('batch-query-mixed.txt') }]);
    const client = new SlurmClient(exec);
    const first = await client.queryJobs(['15', '16', '17', '999999']);
    expect(calls).toHaveLength(1);
    expect(first.get('16')).toMatchObject({ state: 'FAILED', exitCode: 3 });
    expect(first.get('999999')).toEqual({ id: '999999', state: 'NotFound' });
    // Slurm has since purged everything (empty answer): the finished jobs still read from the cache.
    const later = await client.queryJobs(['15', '16']);
    expect(calls).toHaveLength(1);
    expect(later.get('15')).toMatchObject({ state: 'COMPLETED', exitCode: 0, source: 'cache' });
  });

  it('throws CommandFailedError, and answers nothing, when squeue, sacct or scontrol failed remotely', async () => {
    const { exec } = fakeExec([
      {
        code: 1,
        stderr: 'slurm_load_jobs error: Unable to contact slurm controller\nsqueue exited with 1\n',
      },
    ]);
    await expect(new SlurmClient(exec).queryJobs(['17'])).rejects.toMatchObject({
      reason: 'CommandFailed',
      code: 1,
      stderrTail: expect.stringContaining('Unable to contact slurm controller'),
    });
  });

  it('throws when the answer lacks its end mark, instead of reading the missing jobs as gone', async () => {
    const cut = fixture('batch-query-mixed.txt').replace(`${QUERY_END_MARK}\n`, '');
    const { exec } = fakeExec([{ stdout: cut }, { stdout: cut, truncated: true }]);
    const client = new SlurmClient(exec);
    await expect(client.queryJobs(['15', '999999'])).rejects.toBeInstanceOf(CommandFailedError);
    await expect(client.queryJobs(['15', '999999'])).rejects.toThrow(/end mark/);
  });

  it('keeps a final answer from sacct in the cache, like one from scontrol', async () => {
    const line =
      '@A|~|7|~|TIMEOUT|~|0:0|~|None|~|localhost|~|cpu|~||~|hpcuser|~|1795870000|~|1795870001|~|1795870090|~|00:01:00|~|tag|~|old-timeout';
    const { exec, calls } = fakeExec([{ stdout: `${line}\n${QUERY_END_MARK}\n` }]);
    const client = new SlurmClient(exec);
    expect((await client.queryJobs(['7'])).get('7')).toMatchObject({ state: 'TIMEOUT', source: 'sacct' });
    expect((await client.queryJobs(['7'])).get('7')).toMatchObject({ state: 'TIMEOUT', source: 'cache' });
    expect(calls).toHaveLength(1);
  });

  it('treats "already completed" from scancel as success, and a permission error as failure', async () => {
    const harmless = fakeExec([
      {
        code: 1,
        stderr: 'scancel: error: Kill job error on job id 5: Job/step already completing or completed\n',
      },
    ]);
    await expect(new SlurmClient(harmless.exec).cancel(['5'])).resolves.toBeUndefined();
    const denied = fakeExec([
      { code: 210, stderr: 'scancel: error: Kill job error on job id 5: Access/permission denied\n' },
    ]);
    await expect(new SlurmClient(denied.exec).cancel(['5'])).rejects.toMatchObject({
      reason: 'CommandFailed',
      code: 210,
    });
  });

  it('filters jobs by tag on the client side', async () => {
    const { exec, calls } = fakeExec([{ stdout: fixture('squeue-mixed.txt') }]);
    const jobs = await new SlurmClient(exec).findJobsByTag('fixture-1795872592244');
    expect(jobs).toHaveLength(7);
    expect(calls[0]?.command).toContain("'--me'");
  });
});

/** A squeue line of the pinned format for job `id` named `name`. */
const squeueLine = (id: string, name: string) =>
  [
    '@J',
    id,
    'RUNNING',
    'None',
    'localhost',
    'cpu',
    '(null)',
    'hpcuser',
    '1795872592',
    '1795872592',
    '1795872592',
    'UNLIMITED',
    'tag-1',
    name,
  ].join('|~|');

/** An exec whose answers the test hands out one by one, so it can call while a listing is still running. */
function heldExec() {
  const calls: string[] = [];
  const pending: Array<(result: Partial<ExecResult>) => void> = [];
  const exec: ExecFunction = (command) => {
    calls.push(command);
    return new Promise((resolve) => {
      pending.push((result) => resolve({ stdout: '', stderr: '', code: 0, truncated: false, ...result }));
    });
  };
  const answer = async (result: Partial<ExecResult>) => {
    while (pending.length === 0) await new Promise((resolve) => setImmediate(resolve));
    pending.shift()?.(result);
  };
  return { exec, calls, answer };
}

describe("SlurmClient listings of the user's jobs", () => {
  it('asks slurmctld for the named jobs only, and hands each caller only its names', async () => {
    const { exec, calls } = fakeExec([{ stdout: `${squeueLine('7', 'ibo-server-ns-a')}\n` }]);
    const jobs = await new SlurmClient(exec).listMine({ names: ['ibo-server-ns-a'] });
    expect(jobs.map((job) => job.id)).toEqual(['7']);
    expect(calls[0]?.command).toContain("'--me' '--name=ibo-server-ns-a'");
  });

  it('should answer calls made while a listing runs from the next listing, which started after them, one for all', async () => {
    const { exec, calls, answer } = heldExec();
    const slurm = new SlurmClient(exec);
    const first = slurm.listMine({ names: ['a'] });
    const second = slurm.listMine({ names: ['b'] });
    const third = slurm.listMine({ names: ['c'] });
    // The job named b is submitted while the first listing runs: only the later listing can see it.
    await answer({ stdout: `${squeueLine('1', 'a')}\n` });
    await answer({ stdout: [squeueLine('1', 'a'), squeueLine('2', 'b'), squeueLine('3', 'c')].join('\n') });
    expect((await first).map((job) => job.id)).toEqual(['1']);
    expect((await second).map((job) => job.id)).toEqual(['2']);
    expect((await third).map((job) => job.id)).toEqual(['3']);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toContain("'--name=b,c'");
  });

  it('should list every job of the user when one of the callers sharing a listing names none', async () => {
    const { exec, calls, answer } = heldExec();
    const slurm = new SlurmClient(exec);
    const first = slurm.listMine({ names: ['a'] });
    const named = slurm.listMine({ names: ['b'] });
    const all = slurm.listMine();
    await answer({});
    await answer({ stdout: [squeueLine('2', 'b'), squeueLine('3', 'x')].join('\n') });
    await first;
    expect((await named).map((job) => job.id)).toEqual(['2']);
    expect((await all).map((job) => job.id)).toEqual(['2', '3']);
    expect(calls[1]).not.toContain('--name');
  });

  it('should fail only the callers a failed listing served, and serve the next ones', async () => {
    const { exec, answer } = heldExec();
    const slurm = new SlurmClient(exec);
    const first = slurm.listMine({ names: ['a'] });
    const second = slurm.listMine({ names: ['b'] });
    const firstFails = expect(first).rejects.toBeInstanceOf(CommandFailedError);
    await answer({ code: 1, stderr: 'slurm_load_jobs error: Unable to contact slurm controller' });
    await answer({ stdout: squeueLine('2', 'b') });
    await firstFails;
    expect((await second).map((job) => job.id)).toEqual(['2']);
  });

  it('refuses a name that could split the list or reach the shell, before sending', async () => {
    const { exec, calls } = fakeExec([]);
    await expect(new SlurmClient(exec).listMine({ names: ['a,b'] })).rejects.toThrow(/not a job name/);
    await expect(new SlurmClient(exec).listMine({ names: ["x'; touch /tmp/p"] })).rejects.toThrow(
      /not a job name/,
    );
    expect(calls).toHaveLength(0);
  });
});

describe('sbatch command', () => {
  it('quotes every option and converts memory to whole megabytes', () => {
    const command = buildSbatchCommand({
      script: 'x',
      name: 'bench',
      partition: 'gpu',
      account: 'proj-1',
      time: '01:00:00',
      memGB: 1.5,
      nodes: 1,
      cpus: 4,
      gres: 'gpu:1',
      tag: 'uid',
      output: '/w/logs/%x-%j.out',
      extraDirectives: { exclusive: null, '--constraint': 'a100' },
    });
    expect(command).toBe(
      "sbatch --parsable '--job-name=bench' '--partition=gpu' '--account=proj-1' '--time=01:00:00' '--mem=1536M' " +
        "'--nodes=1' '--cpus-per-task=4' '--gres=gpu:1' '--comment=uid' '--output=/w/logs/%x-%j.out' '--exclusive' " +
        "'--constraint=a100'",
    );
  });

  it.each([
    ['x; touch /tmp/pwned', 'x-touch-tmp-pwned'],
    ['$(id)', 'id'],
    ['', 'job'],
    ['a'.repeat(100), 'a'.repeat(64)],
  ])('sanitises the job name %j to %j', (name, expected) => {
    expect(sanitizeJobName(name)).toBe(expected);
  });

  it('refuses a time Slurm would reject, before sending', () => {
    expect(() => buildSbatchCommand({ script: 'x', name: 'n', time: 'banana' })).toThrow(/Slurm time/);
  });
});
