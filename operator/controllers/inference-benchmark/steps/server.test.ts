import { describe, expect, it } from 'vitest';
import { harness, job, UID, validSpec } from '../test-harness.js';

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
});
