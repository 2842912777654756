import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { shellQuote } from '../shell/quote.js';
import { fileSdRegistration } from './file-sd.js';

// The snippets are run by a real bash, because only a shell can tell whether the quoting holds. stdin is
// closed: Debian's bash sources bash.bashrc when stdin is a socket, which is what Node's pipes are.
function runBash(script: string, env: Record<string, string>): { status: number | null; stderr: string } {
  const result = spawnSync('bash', ['-euc', script], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: result.status, stderr: result.stderr };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'file-sd-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('fileSdRegistration', () => {
  it('writes <kind>/<role>-<jobId>.json with the target and the agreed labels', () => {
    const { register } = fileSdRegistration({
      targetsDir: join(dir, 'targets'),
      kind: 'node',
      role: 'ollama',
      target: [{ shellVar: 'NODE_HOST' }, ':9100'],
      labels: { benchmark: 'llama2-100c', model: 'gemma3:270m' },
    });
    const run = runBash(register, { NODE_HOST: 'gpu01', SLURM_JOB_ID: '4711', SLURMD_NODENAME: 'gpu01' });
    expect(run).toEqual({ status: 0, stderr: '' });
    const file = join(dir, 'targets', 'node', 'ollama-4711.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([
      {
        targets: ['gpu01:9100'],
        labels: {
          node: 'gpu01',
          benchmark: 'llama2-100c',
          model: 'gemma3:270m',
          role: 'ollama',
          slurm_job_id: '4711',
        },
      },
    ]);
    expect(readdirSync(join(dir, 'targets', 'node'))).toEqual(['ollama-4711.json']);
  });

  it('keeps hostile label values and hostile variable contents literal and valid JSON', () => {
    const hostile = `it's "x" \\ $(touch ${dir}/pwned) \`id\` ; rm -rf / *`;
    const { register } = fileSdRegistration({
      targetsDir: join(dir, 'targets'),
      kind: 'client',
      role: 'client',
      jobIdVar: 'MY_JOB',
      target: { shellVar: 'TARGET' },
      labels: { benchmark: hostile, node: { shellVar: 'TARGET' } },
    });
    const run = runBash(register, { TARGET: hostile, MY_JOB: '7' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [entry] = JSON.parse(readFileSync(join(dir, 'targets', 'client', 'client-7.json'), 'utf8'));
    expect(entry.targets).toEqual([hostile]);
    expect(entry.labels.benchmark).toBe(hostile);
    expect(entry.labels.node).toBe(hostile);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
  });

  it('removes exactly its own file from the EXIT trap', () => {
    const targetsDir = join(dir, 'targets');
    const mine = fileSdRegistration({ targetsDir, kind: 'dcgm', role: 'ollama', target: 'gpu01:9400' });
    const other = fileSdRegistration({ targetsDir, kind: 'dcgm', role: 'ollama', target: 'gpu02:9400' });
    expect(runBash(other.register, { SLURM_JOB_ID: '1', SLURMD_NODENAME: 'n' }).status).toBe(0);
    const script = `trap ${shellQuote(mine.unregister)} EXIT\n${mine.register}\ntest -f ${targetsDir}/dcgm/ollama-2.json`;
    expect(runBash(script, { SLURM_JOB_ID: '2', SLURMD_NODENAME: 'n' }).status).toBe(0);
    expect(readdirSync(join(targetsDir, 'dcgm'))).toEqual(['ollama-1.json']);
  });

  it('warns and lets the job go on when the folder cannot be written', () => {
    execFileSync('bash', ['-c', `printf x > ${dir}/targets`]);
    const { register } = fileSdRegistration({
      targetsDir: join(dir, 'targets'),
      kind: 'node',
      role: 'x',
      target: 'h:1',
    });
    const run = runBash(`${register}\necho still-running`, { SLURM_JOB_ID: '3', SLURMD_NODENAME: 'n' });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('warning: could not register the node target');
  });

  it.each([
    ['a role that would escape the folder', { role: '../etc' }],
    ['a job id variable that is not a shell name', { jobIdVar: 'X; rm -rf /' }],
    ['a label name Prometheus refuses', { labels: { 'bad-label': 'v' } }],
    ['a relative targets folder', { targetsDir: 'targets' }],
    ['an unknown target kind', { kind: 'mystery' }],
  ])('refuses %s', (_name, override) => {
    const base = { targetsDir: '/w/monitoring/targets', kind: 'node', role: 'ollama', target: 'h:1' };
    expect(() => fileSdRegistration({ ...base, ...override } as never)).toThrow();
  });
});
