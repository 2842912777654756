import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandHostlist } from './hostlist.js';
import { isFound } from './job-info.js';
import { buildBatchQueryCommand, parseBatchQueryOutput } from './query.js';
import { classifySbatchError, parseSbatchOutput } from './sbatch.js';
import { parseExitCode, parseKeyValueLine } from './scontrol.js';
import { parseClusterInfo } from './sinfo.js';
import { parseSqueueOutput } from './squeue.js';
import { failureReason, parseJobState, pendingReasonIsHopeless } from './states.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8');

describe('squeue parsing (Slurm 22.05.8 fixture)', () => {
  const { jobs, malformed } = parseSqueueOutput(fixture('squeue-mixed.txt'));
  const byName = new Map(jobs.map((job) => [job.name, job]));

  it('reads every job line and nothing else', () => {
    expect(jobs).toHaveLength(7);
    expect(malformed).toEqual([]);
  });

  it('keeps a job name that contains the separator and shell syntax intact', () => {
    expect(byName.get('odd |~| name; $(id)')).toMatchObject({ state: 'RUNNING', nodes: ['localhost'] });
  });

  it('exposes the pending reason and an empty node list for pending jobs', () => {
    expect(byName.get('fx-too-many-cpus')).toMatchObject({
      state: 'PENDING',
      reason: 'PartitionConfig',
      nodes: [],
    });
    expect(byName.get('fx-wait-gpu')).toMatchObject({ state: 'PENDING', reason: 'Priority' });
  });

  it('turns epoch times into dates and N/A into null', () => {
    const pending = byName.get('fx-too-many-cpus');
    expect(pending?.submitTime).toBeInstanceOf(Date);
    expect(pending?.startTime).toBeNull();
  });

  it('reads the owner tag from the comment column', () => {
    expect(new Set(jobs.map((job) => job.comment))).toEqual(new Set(['fixture-1795872592244']));
  });

  it('maps FAILED with NonZeroExitCode to a typed failure and COMPLETED to none', () => {
    expect(byName.get('fx-fail')?.failureReason).toBe('NonZeroExit');
    expect(byName.get('fx-ok')?.failureReason).toBeNull();
  });

  it('ignores lines without the job marker (a login banner, an error)', () => {
    expect(parseSqueueOutput('Welcome to the cluster\nslurm_load_jobs error: x\n').jobs).toEqual([]);
  });
});

describe('batch query parsing (Slurm 22.05.8 fixture)', () => {
  const ids = ['15', '16', '17', '18', '19', '20', '21', '999999'];
  const result = parseBatchQueryOutput(ids, fixture('batch-query-mixed.txt'));

  it('prefers the scontrol answer for finished jobs, with exit code and log path', () => {
    expect(result.jobs.get('16')).toMatchObject({
      state: 'FAILED',
      exitCode: 3,
      exitSignal: 0,
      source: 'scontrol',
      stdoutPath: '/home/hpcuser/slurm-out/fixture-16.out',
    });
    expect(result.jobs.get('15')).toMatchObject({
      state: 'COMPLETED',
      exitCode: 0,
      comment: 'fixture-1795872592244',
    });
  });

  it('keeps the squeue answer for running and pending jobs', () => {
    expect(result.jobs.get('17')).toMatchObject({ state: 'RUNNING', source: 'squeue' });
    expect(result.jobs.get('19')).toMatchObject({ state: 'PENDING', reason: 'PartitionConfig' });
  });

  it('reports an id Slurm does not know as not found', () => {
    expect(result.notFound).toEqual(['999999']);
  });

  it('builds one command that refuses anything but job ids', () => {
    expect(() => buildBatchQueryCommand(['1; touch /tmp/pwned'])).toThrow(/not a Slurm job id/);
    expect(buildBatchQueryCommand(['12', '13_4'])).toContain('--jobs=12,13_4');
  });
});

describe('batch query after jobs finished (Slurm 22.05.8 fixture)', () => {
  const text = fixture('batch-query-finished.txt');
  const ids = parseSqueueOutput(text).jobs.map((job) => job.id);
  const result = parseBatchQueryOutput(ids, text);
  const byName = new Map([...result.jobs.values()].map((job) => [job.name, job]));

  it('reads a job killed by its time limit as TIMEOUT, with the exit signal', () => {
    expect(byName.get('fx-timeout')).toMatchObject({
      state: 'TIMEOUT',
      reason: 'TimeLimit',
      failureReason: 'Timeout',
      exitCode: 0,
      exitSignal: 15,
      source: 'scontrol',
    });
  });

  it('reads cancelled jobs as Cancelled, including the one whose name holds the separator', () => {
    expect(byName.get('fx-long')).toMatchObject({
      state: 'CANCELLED',
      failureReason: 'Cancelled',
      exitSignal: 15,
    });
    expect(byName.get('odd |~| name; $(id)')).toMatchObject({ state: 'CANCELLED', source: 'scontrol' });
  });

  it('asks scontrol only for finished jobs, never for the still-pending one', () => {
    expect(byName.get('fx-too-many-cpus')).toMatchObject({ state: 'PENDING', source: 'squeue' });
    expect(result.notFound).toEqual([]);
    expect([...result.jobs.values()].every(isFound)).toBe(true);
  });
});

describe('scontrol parsing', () => {
  it('keeps values with spaces and ignores the double space before the next key', () => {
    const kv = parseKeyValueLine('JobId=1 JobName=a b Comment=tag  StdErr=/x y/z.out Power=');
    expect(kv.get('JobName')).toBe('a b');
    expect(kv.get('Comment')).toBe('tag ');
    expect(kv.get('StdErr')).toBe('/x y/z.out');
    expect(kv.get('Power')).toBe('');
  });

  it.each([
    ['0:0', { code: 0, signal: 0 }],
    ['3:0', { code: 3, signal: 0 }],
    ['0:9', { code: 0, signal: 9 }],
    ['garbage', { code: null, signal: null }],
  ])('reads ExitCode=%s', (raw, expected) => {
    expect(parseExitCode(raw)).toEqual(expected);
  });
});

describe('cluster info (Slurm 22.05.8 fixture)', () => {
  const info = parseClusterInfo(fixture('cluster-info.txt'));

  it('reads the version from "slurm-wlm 22.05.8"', () => {
    expect(info.slurmVersion).toBe('22.05.8');
  });

  it('reads partitions with state, CPUs, memory and the default marker', () => {
    expect(info.partitions).toEqual([
      expect.objectContaining({
        name: 'cpu',
        isDefault: true,
        state: 'up',
        cpusTotal: 8,
        memoryPerNodeMB: 23081,
      }),
      expect.objectContaining({ name: 'gpu', isDefault: false, gres: ['gpu:4'], nodeNames: ['localhost'] }),
    ]);
  });

  it('sums a partition spread over several node groups and keeps the smallest memory', () => {
    const text = [
      '@P|~|big*|~|up|~|2|~|0/64/0/64|~|256000|~|2-00:00:00|~|(null)|~|n[01-02]',
      '@P|~|big*|~|up|~|1|~|16/16/0/32|~|128000+|~|2-00:00:00|~|(null)|~|n03',
    ].join('\n');
    expect(parseClusterInfo(text).partitions[0]).toMatchObject({
      nodes: 3,
      cpusTotal: 96,
      cpusIdle: 80,
      memoryPerNodeMB: 128000,
      nodeNames: ['n01', 'n02', 'n03'],
      maxTime: '2-00:00:00',
    });
  });
});

describe('sbatch results (Slurm 22.05.8 fixtures)', () => {
  it.each([
    ['sbatch-invalid-partition.stderr.txt', 'InvalidPartition'],
    ['sbatch-invalid-time.stderr.txt', 'InvalidTime'],
    ['sbatch-bad-memory.stderr.txt', 'BadConstraints'],
  ])('classifies %s as %s', (file, reason) => {
    expect(classifySbatchError(fixture(file))).toBe(reason);
  });

  it('reads the id from --parsable output, with or without a cluster suffix', () => {
    expect(parseSbatchOutput(fixture('sbatch-ok.stdout.txt'))).toMatch(/^\d+$/);
    expect(parseSbatchOutput('42;cluster\n')).toBe('42');
    expect(() => parseSbatchOutput('sbatch: error\n')).toThrow();
  });
});

describe('node lists', () => {
  it.each([
    ['localhost', ['localhost']],
    ['gpu[01-03,07]', ['gpu01', 'gpu02', 'gpu03', 'gpu07']],
    ['a1,b[1-2]', ['a1', 'b1', 'b2']],
    ['rack[1-2]-n[1-2]', ['rack1-n1', 'rack1-n2', 'rack2-n1', 'rack2-n2']],
    ['n[8-10]', ['n8', 'n9', 'n10']],
    ['n[098-101]', ['n098', 'n099', 'n100', 'n101']],
    ['', []],
    ['(null)', []],
    ['broken[1-', ['broken[1-']],
  ])('expands %j', (expression, expected) => {
    expect(expandHostlist(expression)).toEqual(expected);
  });
});

describe('states', () => {
  it.each([
    ['RUNNING', 'RUNNING'],
    ['CANCELLED by 1001', 'CANCELLED'],
    ['OUT_OF_MEMORY', 'OUT_OF_MEMORY'],
    ['SOMETHING_NEW', 'Unknown'],
    ['', 'Unknown'],
  ])('parses %j as %s', (raw, expected) => {
    expect(parseJobState(raw)).toBe(expected);
  });

  it('accepts the array form newer Slurm JSON uses', () => {
    expect(parseJobState(['TIMEOUT'])).toBe('TIMEOUT');
  });

  it.each([
    ['TIMEOUT', null, 0, 'Timeout'],
    ['OUT_OF_MEMORY', 'OutOfMemory', 0, 'OutOfMemory'],
    ['NODE_FAIL', null, null, 'NodeFail'],
    ['CANCELLED', null, 0, 'Cancelled'],
    ['FAILED', 'BadConstraints', null, 'BadConstraints'],
    ['FAILED', 'NonZeroExitCode', 1, 'NonZeroExit'],
    ['COMPLETED', 'None', 0, null],
    ['RUNNING', null, null, null],
  ] as const)('%s with reason %s and exit %s fails as %s', (state, reason, code, expected) => {
    expect(failureReason(state, reason, code)).toBe(expected);
  });

  it('knows which pending reasons never clear', () => {
    expect(pendingReasonIsHopeless('PartitionConfig')).toBe(true);
    expect(pendingReasonIsHopeless('Resources')).toBe(false);
    expect(pendingReasonIsHopeless(null)).toBe(false);
  });
});
