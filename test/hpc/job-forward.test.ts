import { afterAll, describe, expect, it } from 'vitest';
import { requireHpc } from '../sandbox/description.js';
import {
  cancelJobs,
  jobScript,
  splitHostPort,
  submitJob,
  waitForEndpoints,
  waitForJobState,
} from '../support/slurm.js';
import { openForward, type PortForward, remote } from '../support/ssh.js';
import { waitFor } from '../support/wait.js';

// The path the operator takes to every service on the cluster: a job writes its endpoint to a file, and
// HTTP reaches it through the SSH connection. scancel must then leave nothing of the job behind.
describe('a job that serves HTTP', () => {
  const hpc = requireHpc();
  let jobId = '';
  let forward: PortForward | undefined;

  afterAll(async () => {
    await forward?.close();
    if (jobId) await cancelJobs(hpc.ssh, [jobId]).catch(() => undefined);
  });

  /** Processes of the ssh user whose argv carries this job's marker (set by jobs/http-echo.sh). */
  async function markedProcesses(id: string): Promise<string[]> {
    const table = await remote(hpc.ssh, `ps -u ${hpc.ssh.user} -o pid=,ppid=,args=`);
    return table
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.includes(`ibo-child-${id}-`));
  }

  it('is reachable through an SSH port forward at the endpoint it wrote', async () => {
    jobId = await submitJob(hpc.ssh, jobScript('http-echo'), ['--partition=cpu']);
    const endpoints = await waitForEndpoints(hpc, jobId);
    const http = endpoints.http;
    if (!http) throw new Error(`job ${jobId} wrote no http endpoint: ${JSON.stringify(endpoints)}`);
    const { host, port } = splitHostPort(http);
    forward = await openForward(hpc.ssh, host, port);
    const response = await fetch(`${forward.url}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`hello from job ${jobId}\n`);
  });

  it('is gone after scancel, with its child and its escaped grandchild', async () => {
    const before = await markedProcesses(jobId);
    expect(before.some((line) => line.includes(`ibo-child-${jobId}-plain`))).toBe(true);
    // The escaped one was double-forked: re-parented away from the job's process tree.
    expect(before.some((line) => line.includes(`ibo-child-${jobId}-escaped`))).toBe(true);

    await cancelJobs(hpc.ssh, [jobId]);
    expect(await waitForJobState(hpc.ssh, jobId, ['CANCELLED'])).toBe('CANCELLED');
    await waitFor(
      `every process of job ${jobId} to end`,
      async () => {
        const left = await markedProcesses(jobId);
        if (left.length === 0) return true;
        throw new Error(`still running: ${left.join('; ')}`);
      },
      { timeoutMs: 45_000, intervalMs: 500 },
    );
    await expect(fetch(`${forward?.url}/`)).rejects.toThrow();
  });
});
