import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBatchQueryCommand, parseBatchQueryOutput, QUERY_END_MARK } from './query.js';
import { parseSacctOutput } from './sacct.js';

/**
 * The batch query is shell: these tests run the very command text through `sh -c` (as the SSH layer does)
 * with fake squeue, sacct and scontrol first on the PATH. Each fake prints what the test gave it and logs
 * its call, so a test says what Slurm answered and checks what was asked and what the command concluded.
 */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures', name), 'utf8');

const FAKE = `#!/bin/sh
d=$(dirname "$0")
name=$(basename "$0")
printf '%s %s\\n' "$name" "$*" >> "$d/calls"
key=$name
if [ "$name" = scontrol ]; then for last; do :; done; key="scontrol-$last"; fi
if [ -e "$d/$key.out" ]; then
  cat "$d/$key.out"
  exit "$(cat "$d/$key.rc")"
fi
if [ "$name" = scontrol ]; then echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1; fi
exit 0
`;

interface Answer {
  out: string;
  code?: number;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the batch query for `ids` against fakes; unlisted scontrol ids answer "Invalid job id specified". */
function run(
  ids: readonly string[],
  answers: { squeue: Answer; sacct?: Answer; scontrol?: Record<string, Answer> },
): { code: number | null; stdout: string; stderr: string; calls: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ibo-fake-slurm-'));
  dirs.push(dir);
  for (const name of ['squeue', 'sacct', 'scontrol']) {
    writeFileSync(join(dir, name), FAKE);
    chmodSync(join(dir, name), 0o755);
  }
  const files: Array<[string, Answer]> = [['squeue', answers.squeue]];
  if (answers.sacct) files.push(['sacct', answers.sacct]);
  for (const [id, answer] of Object.entries(answers.scontrol ?? {})) files.push([`scontrol-${id}`, answer]);
  for (const [key, answer] of files) {
    writeFileSync(join(dir, `${key}.out`), answer.out);
    writeFileSync(join(dir, `${key}.rc`), String(answer.code ?? 0));
  }
  writeFileSync(join(dir, 'calls'), '');
  const result = spawnSync('sh', ['-c', buildBatchQueryCommand(ids)], {
    env: { PATH: `${dir}:/usr/bin:/bin` },
    encoding: 'utf8',
  });
  const calls = readFileSync(join(dir, 'calls'), 'utf8').split('\n').filter(Boolean);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, calls };
}

const squeueLines = fixture('squeue-mixed.txt').split('\n');
const squeueLine = (id: string) => squeueLines.find((line) => line.startsWith(`@J|~|${id}|~|`)) ?? '';
const scontrolLines = fixture('batch-query-mixed.txt').split('\n');
const scontrolLine = (id: string) => scontrolLines.find((line) => line.startsWith(`JobId=${id} `)) ?? '';
/** sacct `--parsable2` lines in the pinned field order, shaped like the captured sacct-finished.txt. */
const sacct = {
  completed:
    '15|~|COMPLETED|~|0:0|~|None|~|localhost|~|cpu|~||~|hpcuser|~|1795872592|~|1795872592|~|1795872592|~|UNLIMITED|~|fixture-1795872592244|~|fx-ok',
  failed:
    '16|~|FAILED|~|3:0|~|None|~|localhost|~|cpu|~||~|hpcuser|~|1795872592|~|1795872595|~|1795872595|~|365-00:00:00|~|fixture-1795872592244|~|fx-fail',
  purgedTimeout:
    '7|~|TIMEOUT|~|0:0|~|None|~|localhost|~|cpu|~||~|hpcuser|~|1795870000|~|1795870001|~|1795870090|~|00:01:00|~|tag|~|old-timeout',
  lagging:
    '16|~|RUNNING|~|0:0|~|None|~|localhost|~|cpu|~||~|hpcuser|~|1795872592|~|1795872595|~|Unknown|~|365-00:00:00|~|fixture-1795872592244|~|fx-fail',
};
const INVALID_ID = { out: 'slurm_load_jobs error: Invalid job id specified\n', code: 1 };
const NO_ACCOUNTING = { out: 'Slurm accounting storage is disabled\n', code: 1 };
const CONTROLLER_DOWN = {
  out: 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n',
  code: 1,
};

describe('the batch query command, run by sh against fake Slurm commands', () => {
  it('answers running and pending jobs from squeue alone, asking neither sacct nor scontrol', () => {
    const result = run(['17', '19'], { squeue: { out: `${squeueLine('17')}\n${squeueLine('19')}\n` } });
    expect(result.code).toBe(0);
    expect(result.calls.map((call) => call.split(' ')[0])).toEqual(['squeue']);
    const parsed = parseBatchQueryOutput(['17', '19'], result.stdout);
    expect(parsed.complete).toBe(true);
    expect(parsed.jobs.get('17')).toMatchObject({ state: 'RUNNING', source: 'squeue' });
  });

  it('asks sacct ONCE for finished and unknown ids, and scontrol only for what sacct did not settle', () => {
    const result = run(['15', '16', '17', '999'], {
      squeue: { out: [squeueLine('15'), squeueLine('16'), squeueLine('17')].join('\n') },
      sacct: { out: `${sacct.completed}\n${sacct.failed}\n` },
    });
    expect(result.code).toBe(0);
    const sacctCalls = result.calls.filter((call) => call.startsWith('sacct '));
    expect(sacctCalls).toHaveLength(1);
    expect(
      sacctCalls[0]
        ?.split(' ')
        .find((arg) => arg.startsWith('--jobs='))
        ?.split(/[=,]/)
        .slice(1)
        .sort(),
    ).toEqual(['15', '16', '999']);
    expect(result.calls.filter((call) => call.startsWith('scontrol '))).toEqual([
      'scontrol --oneliner show job 999',
    ]);
    const parsed = parseBatchQueryOutput(['15', '16', '17', '999'], result.stdout);
    expect(parsed.jobs.get('16')).toMatchObject({ state: 'FAILED', exitCode: 3, source: 'sacct' });
    expect(parsed.jobs.get('17')).toMatchObject({ state: 'RUNNING', source: 'squeue' });
    expect(parsed.notFound).toEqual(['999']);
  });

  it('reads a job slurmctld has purged from sacct: squeue and scontrol say "Invalid job id specified"', () => {
    const result = run(['7'], { squeue: INVALID_ID, sacct: { out: `${sacct.purgedTimeout}\n` } });
    expect(result.code).toBe(0);
    expect(result.calls.some((call) => call.startsWith('scontrol'))).toBe(false);
    expect(parseBatchQueryOutput(['7'], result.stdout).jobs.get('7')).toMatchObject({
      state: 'TIMEOUT',
      failureReason: 'Timeout',
      source: 'sacct',
      endTime: new Date(1795870090 * 1000),
    });
  });

  it('asks scontrol when sacct still shows a finished job as running (its record lags behind)', () => {
    const result = run(['16'], {
      squeue: { out: squeueLine('16') },
      sacct: { out: `${sacct.lagging}\n` },
      scontrol: { '16': { out: `${scontrolLine('16')}\n` } },
    });
    expect(result.code).toBe(0);
    expect(parseBatchQueryOutput(['16'], result.stdout).jobs.get('16')).toMatchObject({
      state: 'FAILED',
      exitCode: 3,
      source: 'scontrol',
    });
  });

  it.each([
    ['accounting is disabled', NO_ACCOUNTING],
    ['sacct is not installed', { out: 'sh: 1: sacct: not found\n', code: 127 }],
  ])('falls back to scontrol, as without accounting, when %s', (_, sacctAnswer) => {
    const result = run(['16', '999'], {
      squeue: { out: squeueLine('16') },
      sacct: sacctAnswer,
      scontrol: { '16': { out: `${scontrolLine('16')}\n` } },
    });
    expect(result.code).toBe(0);
    const parsed = parseBatchQueryOutput(['16', '999'], result.stdout);
    expect(parsed.jobs.get('16')).toMatchObject({ state: 'FAILED', exitCode: 3, source: 'scontrol' });
    expect(parsed.notFound).toEqual(['999']);
    expect(parsed.complete).toBe(true);
  });

  it('fails with squeue exit code and message when squeue fails, and asks nothing else', () => {
    const result = run(['17'], { squeue: CONTROLLER_DOWN });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Unable to contact slurm controller');
    expect(result.stderr).toContain('squeue exited with 1');
    expect(result.stdout).not.toContain(QUERY_END_MARK);
    expect(result.calls.map((call) => call.split(' ')[0])).toEqual(['squeue']);
  });

  it('fails when scontrol fails for any reason but an unknown id', () => {
    const result = run(['16', '17'], {
      squeue: { out: `${squeueLine('16')}\n${squeueLine('17')}\n` },
      sacct: NO_ACCOUNTING,
      scontrol: {
        '16': { out: 'slurm_load_jobs error: Socket timed out on send/recv operation\n', code: 1 },
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('scontrol exited with 1');
    expect(result.stdout).not.toContain(QUERY_END_MARK);
  });

  it('fails when sacct fails for any reason but disabled accounting (slurmdbd down)', () => {
    const result = run(['16'], {
      squeue: { out: squeueLine('16') },
      sacct: { out: 'sacct: error: Problem talking to the database: Connection refused\n', code: 1 },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Problem talking to the database');
    expect(result.calls.some((call) => call.startsWith('scontrol'))).toBe(false);
  });

  it('still reads ids squeue and scontrol both call invalid as not found, with or without accounting', () => {
    for (const sacctAnswer of [NO_ACCOUNTING, { out: '' }]) {
      const result = run(['999'], { squeue: INVALID_ID, sacct: sacctAnswer });
      expect(result.code).toBe(0);
      const parsed = parseBatchQueryOutput(['999'], result.stdout);
      expect(parsed).toMatchObject({ notFound: ['999'], complete: true });
    }
  });
});

describe('batch query output that cannot be trusted', () => {
  it('is incomplete without the end mark, whatever it contains', () => {
    const cut = `${squeueLine('17')}\n`;
    expect(parseBatchQueryOutput(['17'], cut).complete).toBe(false);
    expect(parseBatchQueryOutput(['17'], `${cut}${QUERY_END_MARK}\n`).complete).toBe(true);
  });

  it('ignores a running sacct record for a job nobody else knows: it is not found, not running', () => {
    const text = `@A|~|${sacct.lagging}\n${QUERY_END_MARK}\n`;
    expect(parseBatchQueryOutput(['16'], text).notFound).toEqual(['16']);
  });
});

describe('sacct and the batch query with accounting (Slurm 22.05.8 + slurmdbd fixtures)', () => {
  const jobs = parseSacctOutput(fixture('sacct-finished.txt'));
  const byName = new Map(jobs.map((job) => [job.name, job]));

  it('reads every finished job with its exit code, and keeps who cancelled in the raw state', () => {
    expect(jobs).toHaveLength(5);
    expect(byName.get('fx-fail')).toMatchObject({
      state: 'FAILED',
      exitCode: 3,
      failureReason: 'NonZeroExit',
    });
    expect(byName.get('fx-cancel')).toMatchObject({
      state: 'CANCELLED',
      rawState: 'CANCELLED by 1001',
      failureReason: 'Cancelled',
    });
    expect(byName.get('fx-timeout')).toMatchObject({
      state: 'TIMEOUT',
      failureReason: 'Timeout',
      timeLimit: '00:01:00',
    });
    expect(byName.get('fx-ok')).toMatchObject({
      state: 'COMPLETED',
      exitCode: 0,
      failureReason: null,
      source: 'sacct',
    });
  });

  it('keeps a job name that contains the separator, the tag and epoch times', () => {
    const odd = byName.get('odd |~| name; $(id)');
    expect(odd).toMatchObject({ state: 'COMPLETED', comment: expect.stringMatching(/^fixture-\d+$/) });
    expect(odd?.endTime).toBeInstanceOf(Date);
    expect(byName.get('fx-timeout')?.account).toBeNull();
  });

  it('prefers sacct for finished jobs in the batch answer, keeps squeue for a COMPLETING one, and ends complete', () => {
    const text = fixture('batch-query-accounting.txt');
    const ids = [...jobs.map((job) => job.id), '999999'];
    const result = parseBatchQueryOutput(ids, text);
    expect(result.complete).toBe(true);
    expect(result.notFound).toEqual(['999999']);
    const answers = [...result.jobs.values()];
    expect(
      answers
        .filter((job) => job.source === 'sacct')
        .map((job) => job.name)
        .sort(),
    ).toEqual(['fx-cancel', 'fx-fail', 'fx-ok', 'odd |~| name; $(id)'].sort());
    expect(answers.find((job) => job.name === 'fx-timeout')).toMatchObject({
      state: 'COMPLETING',
      source: 'squeue',
    });
  });
});
