import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { requireHpc } from '../sandbox/description.js';
import { cancelJobs, jobScript, splitHostPort, submitJob, waitForEndpoints } from '../support/slurm.js';
import { openForward, type PortForward } from '../support/ssh.js';
import { waitFor } from '../support/wait.js';

const QueryResponse = z.object({
  status: z.literal('success'),
  data: z.object({
    result: z.array(
      z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) }),
    ),
  }),
});

// The monitoring path of a benchmark: the client pushes to the Pushgateway, Prometheus scrapes it, and
// the operator reads results back through Prometheus' query API.
describe('a Prometheus + Pushgateway job', () => {
  const hpc = requireHpc();
  let jobId = '';
  const forwards: PortForward[] = [];

  afterAll(async () => {
    await Promise.all(forwards.map((f) => f.close()));
    if (jobId) await cancelJobs(hpc.ssh, [jobId]).catch(() => undefined);
  });

  it('returns a metric pushed to the Pushgateway from /api/v1/query', async () => {
    jobId = await submitJob(hpc.ssh, jobScript('prometheus'), ['--partition=cpu']);
    const endpoints = await waitForEndpoints(hpc, jobId);
    const open = async (endpoint: string | undefined) => {
      const { host, port } = splitHostPort(endpoint ?? '');
      const forward = await openForward(hpc.ssh, host, port);
      forwards.push(forward);
      return forward.url;
    };
    const pushgateway = await open(endpoints.pushgateway);
    const prometheus = await open(endpoints.prometheus);

    const run = randomUUID();
    const pushed = await fetch(`${pushgateway}/metrics/job/ibo_sandbox_test/run/${run}`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain; version=0.0.4' },
      body: '# TYPE ibo_sandbox_test_value gauge\nibo_sandbox_test_value 42\n',
    });
    expect(pushed.status).toBe(200);

    const query = new URLSearchParams({
      query: `ibo_sandbox_test_value{job="ibo_sandbox_test",run="${run}"}`,
    });
    const sample = await waitFor(
      'the pushed metric in Prometheus',
      async () => {
        const response = await fetch(`${prometheus}/api/v1/query?${query}`);
        const body = QueryResponse.parse(await response.json());
        return body.data.result[0];
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(sample.value[1]).toBe('42');
    expect(sample.metric).toMatchObject({ job: 'ibo_sandbox_test', run });
  });
});
