import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/kube.js';
import { waitFor } from '../support/wait.js';
import { E2E_TEST_TIMEOUT_MS, E2eEnvironment, ROOT } from './environment.js';

/**
 * "An invalid object that slips past the schema gets InvalidSpec; the operator keeps serving others."
 * The CRD and zod agree (test/api/round-trip), so such an object only exists when the schema was looser
 * when it was stored: an older CRD, or validation that changed under it. This test makes exactly that
 * happen: it loosens the live CRD for a moment (no upper bound on workload.clients), stores a benchmark
 * with 20,000 clients, restores the CRD, and checks the operator's answer next to a healthy benchmark.
 */
const env = new E2eEnvironment(uniqueName('e2e-drift'));
const CRD = 'inferencebenchmarks.hpcbench.io';
const CRD_FILE = join(ROOT, 'crds', 'yaml', `${CRD}.yaml`);
const CLIENTS_MAXIMUM =
  '/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/workload/properties/clients/maximum';

async function restoreCrd(): Promise<void> {
  await env.kubectl(['apply', '--server-side', '--force-conflicts', '-f', CRD_FILE]);
}

beforeAll(async () => {
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await restoreCrd();
  await env.tearDown();
});

describe('a benchmark stored under a looser schema', () => {
  it(
    'is reported as InvalidSpec naming the field, while a valid benchmark beside it completes',
    async () => {
      const drifted = env.benchmarkManifest('drifted');
      (drifted.spec as { workload: { clients: number; requestsPerClient: number } }).workload = {
        ...(drifted.spec as { workload: Record<string, unknown> }).workload,
        clients: 20_000,
        requestsPerClient: 1,
      } as { clients: number; requestsPerClient: number };
      try {
        await env.kubectl([
          'patch',
          'crd',
          CRD,
          '--type=json',
          '-p',
          JSON.stringify([{ op: 'remove', path: CLIENTS_MAXIMUM }]),
        ]);
        // The apiserver takes a moment to serve the new schema: retry the apply until it is accepted.
        await waitFor(
          'the loosened CRD to accept 20,000 clients',
          async () => {
            try {
              await env.apply(drifted);
              return true;
            } catch {
              return undefined;
            }
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        );
      } finally {
        await restoreCrd();
      }
      await env.apply(env.benchmarkManifest('healthy'));

      const rejected = await env.waitForBenchmark('drifted', 'InvalidSpec', (object) =>
        object.status?.conditions?.find((c) => c.type === 'Ready' && c.reason === 'InvalidSpec'),
      );
      expect(rejected.status).toBe('False');
      expect(rejected.message).toContain('spec.workload.clients');
      const drifted_ = await env.getBenchmark('drifted');
      expect(drifted_?.status?.phase).toBe('Failed');
      expect(drifted_?.status?.slurmJobs ?? []).toHaveLength(0);

      await env.waitCondition('healthy', 'BenchmarkComplete', 720);
      expect((await env.getBenchmark('healthy'))?.status?.phase).toBe('Succeeded');
      // The operator process survived the bad object.
      expect(env.operator?.child.exitCode).toBeNull();
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
