import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readSandbox, requireHpc } from '../sandbox/description.js';
import { jobScript, submitJob, waitForEndpoints } from '../support/slurm.js';
import { remote, runProgram } from '../support/ssh.js';

const sandboxDir = fileURLToPath(new URL('../sandbox/', import.meta.url));

/** Alive means present and not a zombie: PID 1 here reaps orphans late, and a zombie runs nothing. */
function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function processesOf(user: string): number[] {
  try {
    return execFileSync('ps', ['-u', user, '-o', 'pid='], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((pid) => pid > 0 && processAlive(pid));
  } catch {
    return []; // ps exits 1 when the user has no processes
  }
}

function listening(port: number): boolean {
  return execFileSync('ss', ['-Htln', `sport = :${port}`], { encoding: 'utf8' }).trim() !== '';
}

// Destructive: stops the HPC half (cancelling every job on it) and brings it back with `sandbox up` (warm,
// a few seconds). Other suites sharing the sandbox at the same time would lose their jobs, so it runs only
// when asked: IBO_TEST_SANDBOX_DOWN=1 (the CI script runs the suite alone and sets it).
describe.runIf(process.env.IBO_TEST_SANDBOX_DOWN === '1')('sandbox down', () => {
  const description = readSandbox();
  const hpc = requireHpc(description);
  const pidDir = join(description.stateDir, 'hpc', 'pids');

  afterAll(async () => {
    const up = await runProgram('bash', [join(sandboxDir, 'sandbox'), 'up'], { timeoutMs: 600_000 });
    if (up.code !== 0) throw new Error(`sandbox up after the down test failed:\n${up.stderr}`);
  });

  it('leaves none of the processes it started running, jobs included', async () => {
    // A running job, so that down has job processes to cancel.
    const jobId = await submitJob(hpc.ssh, jobScript('http-echo'), ['--partition=cpu']);
    await waitForEndpoints(hpc, jobId);
    expect((await remote(hpc.ssh, `squeue -h -j ${jobId} -o %T`)).trim()).toBe('RUNNING');

    const daemonPids = readdirSync(pidDir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => Number(readFileSync(join(pidDir, f), 'utf8').trim().split(/\s+/)[0])); // "<pid> <program>"
    expect(daemonPids.length).toBeGreaterThanOrEqual(4); // munged, slurmctld, slurmd, sshd
    const userPids = processesOf(hpc.ssh.user);
    expect(userPids.length).toBeGreaterThan(0);

    const down = await runProgram('bash', [join(sandboxDir, 'lib', 'hpc.sh'), 'down'], {
      timeoutMs: 180_000,
    });
    expect(down.code, down.stderr).toBe(0);

    expect([...daemonPids, ...userPids].filter(processAlive)).toEqual([]);
    expect(processesOf(hpc.ssh.user)).toEqual([]);
    expect(listening(hpc.ssh.port)).toBe(false);
    expect(existsSync(join(description.stateDir, 'hpc.json'))).toBe(false);

    const again = await runProgram('bash', [join(sandboxDir, 'lib', 'hpc.sh'), 'down'], {
      timeoutMs: 60_000,
    });
    expect(again.code, again.stderr).toBe(0);
  });
});
