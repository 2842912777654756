import { describe, expect, it } from 'vitest';
import { describeModelState } from '../../../../slurm-bridge/engines/ollama/model-state.js';
import type { Condition } from '../../../runtime/conditions.js';
import { harness, job, UID, validSpec } from '../test-harness.js';

const condition = (status: { conditions?: unknown } | undefined, type: string) =>
  (status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);

describe('the Ollama server job', () => {
  it("puts the models under the cluster user's $HOME, read again when the SlurmCluster's host or user changes", async () => {
    const h = harness();
    await h.reconcile();
    expect(h.cluster.submits[0]?.script).toContain('/home/hpcuser/.ollama/models');
    h.cluster.states.set('100', job('100', 'RUNNING'));
    // The SlurmCluster now points at another login as another user: the registry builds a new session.
    h.setSession({ ok: true, session: h.cluster.session({ host: 'login2', user: 'alice' }) });
    h.object = {
      ...h.object,
      metadata: { ...h.object.metadata, generation: 2 },
      spec: { ...validSpec, workload: { clients: 1, requestsPerClient: 1 } },
    };
    await h.reconcile();
    expect(h.cluster.submits).toHaveLength(2);
    expect(h.cluster.submits[1]?.tag).toBe(`ibo.${UID}.g2`);
    expect(h.cluster.submits[1]?.script).toContain('/home/alice/.ollama/models');
    expect(h.cluster.submits[1]?.script).not.toContain('/home/hpcuser/.ollama');
    expect(h.cluster.execs).toBe(1);
  });

  it("pulls over plain HTTP only when the spec says the model's registry is insecure", async () => {
    const secure = harness();
    await secure.reconcile();
    expect(secure.cluster.submits[0]?.script).toContain('"stream":true}');
    expect(secure.cluster.submits[0]?.script).not.toContain('"insecure"');
    const insecure = harness();
    const name = '127.0.0.1:5000/library/gemma3:270m';
    insecure.object = {
      ...insecure.object,
      spec: { ...validSpec, model: { name, insecureRegistry: true } },
    };
    await insecure.reconcile();
    expect(insecure.cluster.submits[0]?.script).toContain(
      `'{"model":"${name}","stream":true,"insecure":true}'`,
    );
  });

  it('reads $HOME once per session', async () => {
    const h = harness();
    await h.reconcile();
    h.object = {
      ...h.object,
      metadata: { ...h.object.metadata, generation: 2 },
      spec: { ...validSpec, workload: { clients: 1, requestsPerClient: 1 } },
    };
    await h.reconcile();
    expect(h.cluster.submits).toHaveLength(2);
    expect(h.cluster.execs).toBe(1);
  });

  it('shows the pull progress the job writes, and names the model when the pull failed and the job ended', async () => {
    const h = harness();
    await h.reconcile();
    expect(h.cluster.submits[0]?.script).toContain(h.cluster.runFile('server.model.json'));
    h.cluster.states.set('100', job('100', 'RUNNING'));
    h.cluster.files.set(
      h.cluster.runFile('server.model.json'),
      '{"status":"pulling 7a3c","digest":"sha256:7a3c","total":291000000,"completed":145500000}\n',
    );
    await h.reconcile();
    expect(condition(h.object.status, 'OllamaModelLoaded')).toMatchObject({
      status: 'False',
      reason: 'ModelPulling',
      message: 'SLURM job 100: pulling gemma3:270m: pulling 7a3c: 50% (146 of 291 MB)',
    });
    h.cluster.files.set(
      h.cluster.runFile('server.model.json'),
      '{"error":"pull model manifest: file does not exist"}\n',
    );
    h.cluster.states.set('100', { ...job('100', 'FAILED'), exitCode: 3 });
    await h.reconcile();
    expect(h.object.status?.phase).toBe('Failed');
    expect(condition(h.object.status, 'Ready')).toMatchObject({ reason: 'ModelPullFailed' });
    expect(condition(h.object.status, 'Ready')?.message).toContain(
      'pulling gemma3:270m failed: pull model manifest: file does not exist',
    );
  });

  it("reads the job's model states as sentences", () => {
    expect(describeModelState('m', '{"status":"checking"}')?.message).toBe('looking for m');
    expect(describeModelState('m', '{"status":"ready"}')?.message).toBe('m is there; loading it');
    expect(describeModelState('m', 'garbage')).toEqual({ failed: false, message: 'preparing m' });
    expect(describeModelState('m', '{"error":"boom"}')).toEqual({
      failed: true,
      message: 'pulling m failed: boom',
    });
  });
});
