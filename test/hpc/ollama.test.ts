import { afterAll, describe, expect, it } from 'vitest';
import { requireHpc } from '../sandbox/description.js';
import { generate, listModels } from '../support/ollama.js';
import { cancelJobs, jobScript, splitHostPort, submitJob, waitForEndpoints } from '../support/slurm.js';
import { openForward, type PortForward } from '../support/ssh.js';

// The model server a benchmark measures: an Ollama job on the gpu partition, serving the sandbox's
// pre-imported model. The job routes all outbound HTTP to a dead proxy, so listing and answering prove
// that nothing was downloaded.
describe('an Ollama job', () => {
  const hpc = requireHpc();
  let jobId = '';
  let forward: PortForward | undefined;

  afterAll(async () => {
    await forward?.close();
    if (jobId) await cancelJobs(hpc.ssh, [jobId]).catch(() => undefined);
  });

  it('lists the sandbox model without any network', async () => {
    jobId = await submitJob(hpc.ssh, jobScript('ollama'), ['--partition=gpu', '--gres=gpu:1']);
    const endpoints = await waitForEndpoints(hpc, jobId);
    const { host, port } = splitHostPort(endpoints.ollama ?? '');
    forward = await openForward(hpc.ssh, host, port);
    expect(await listModels(forward.url)).toContain(hpc.ollama.model);
  });

  it('answers /api/generate with tokens and text', async () => {
    if (!forward) throw new Error('the Ollama job did not come up');
    const result = await generate(forward.url, {
      model: hpc.ollama.model,
      prompt: 'Name three colours of the rainbow.',
      maxTokens: 32,
    });
    expect(result.done).toBe(true);
    expect(result.eval_count).toBeGreaterThan(0);
    expect(result.response.trim().length).toBeGreaterThan(0);
  });
});
