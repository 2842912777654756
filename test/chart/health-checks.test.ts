import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type JsonValue, runHealthCheck } from './lua.js';

// The Lua health checks Argo CD runs, driven through the real lua5.1 interpreter on sample objects.
const argocdDir = new URL('../../charts/inference-benchmark-operator/argocd/', import.meta.url);
const benchmarkCheck = fileURLToPath(new URL('inferencebenchmark-health.lua', argocdDir));
const clusterCheck = fileURLToPath(new URL('slurmcluster-health.lua', argocdDir));

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string;
}

function condition(type: string, status: Condition['status'], reason: string, message = ''): JsonValue {
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime: '2026-11-28T12:00:00Z',
    observedGeneration: 1,
  };
}

function object(kind: string, generation: number, status: JsonValue): JsonValue {
  return {
    apiVersion: 'hpcbench.io/v1alpha1',
    kind,
    metadata: { name: 'sample', namespace: 'default', generation, uid: 'u-1' },
    spec: {},
    status,
  };
}

const benchmark = (generation: number, status: JsonValue) => object('InferenceBenchmark', generation, status);
/** A benchmark whose spec asks for an SLO (issue 16). */
const withSlo = (failBenchmark: boolean, status: JsonValue): JsonValue => ({
  ...(benchmark(1, status) as Record<string, JsonValue>),
  spec: { slo: { ttftMs: 500, percentile: 95, failBenchmark } },
});
const cluster = (generation: number, status: JsonValue) => object('SlurmCluster', generation, status);

describe('the InferenceBenchmark health check', () => {
  const cases: { name: string; obj: JsonValue; status: string; message?: RegExp }[] = [
    {
      name: 'is Progressing when the operator has not written any status yet',
      obj: benchmark(1, null),
      status: 'Progressing',
      message: /operator/,
    },
    {
      name: 'is Progressing while the job is Queued, and shows the SLURM reason',
      obj: benchmark(1, {
        observedGeneration: 1,
        phase: 'Queued',
        conditions: [condition('Ready', 'False', 'JobPending', 'ollama job 42 pending: (Resources)')],
      }),
      status: 'Progressing',
      message: /Queued: ollama job 42 pending: \(Resources\)/,
    },
    {
      name: 'is Progressing while Running, and shows the progress',
      obj: benchmark(1, {
        observedGeneration: 1,
        phase: 'Running',
        progress: { completedRequests: 40, totalRequests: 100, display: '40/100' },
        conditions: [condition('Ready', 'False', 'RunInProgress', 'benchmark running')],
      }),
      status: 'Progressing',
      message: /Running \(40\/100 requests\)/,
    },
    {
      name: 'is Healthy when the benchmark Succeeded',
      obj: benchmark(1, {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [
          condition('BenchmarkComplete', 'True', 'RunSucceeded', '100 requests, 812.5 tokens/s'),
          condition('Ready', 'True', 'RunSucceeded'),
        ],
      }),
      status: 'Healthy',
      message: /812\.5 tokens\/s/,
    },
    {
      name: 'is Degraded when the benchmark Failed, with the failure reason',
      obj: benchmark(1, {
        observedGeneration: 1,
        phase: 'Failed',
        conditions: [condition('Ready', 'False', 'OutOfMemory', 'ollama job 7 ran out of memory')],
      }),
      status: 'Degraded',
      message: /OutOfMemory: ollama job 7 ran out of memory/,
    },
    {
      name: 'is Degraded when the operator rejected the spec, even without a Failed phase',
      obj: benchmark(1, {
        observedGeneration: 1,
        phase: 'Pending',
        conditions: [condition('Ready', 'False', 'InvalidSpec', 'spec.workload.clients: must be >= 1')],
      }),
      status: 'Degraded',
      message: /InvalidSpec/,
    },
    {
      name: 'is Progressing when observedGeneration lags generation, even if the old run Succeeded',
      obj: benchmark(2, {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [condition('Ready', 'True', 'RunSucceeded')],
      }),
      status: 'Progressing',
      message: /generation 2/,
    },
    {
      name: 'is Progressing when observedGeneration lags generation, even if the old run Failed',
      obj: benchmark(3, { observedGeneration: 2, phase: 'Failed' }),
      status: 'Progressing',
    },
    {
      name: 'is Degraded when SLOMet is False and spec.slo.failBenchmark is true, naming the threshold',
      obj: withSlo(true, {
        observedGeneration: 1,
        phase: 'Failed',
        conditions: [
          condition('SLOMet', 'False', 'SLONotMet', 'ttftMs p95 812 ms > 500 ms at stage 3 (8 clients)'),
          condition('Ready', 'False', 'SLONotMet', 'ttftMs p95 812 ms > 500 ms at stage 3 (8 clients)'),
        ],
      }),
      status: 'Degraded',
      message: /^SLONotMet: ttftMs p95 812 ms > 500 ms at stage 3 \(8 clients\)$/,
    },
    {
      name: 'is Degraded on SLOMet False with failBenchmark even while the phase still says Succeeded',
      obj: withSlo(true, {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [condition('SLOMet', 'False', 'SLONotMet', 'e2eMs p95 9000 ms > 5000 ms at stage 1')],
      }),
      status: 'Degraded',
      message: /e2eMs p95/,
    },
    {
      name: 'stays Healthy when SLOMet is False but spec.slo.failBenchmark is false: the miss is a finding',
      obj: withSlo(false, {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [
          condition('SLOMet', 'False', 'SLONotMet', 'ttftMs p95 812 ms > 500 ms at stage 3 (8 clients)'),
          condition(
            'BenchmarkComplete',
            'True',
            'RunSucceeded',
            '40/40 requests; SLO not met: ttftMs p95 812 ms',
          ),
        ],
      }),
      status: 'Healthy',
      message: /SLO not met/,
    },
    {
      name: 'is Healthy when SLOMet is True with failBenchmark',
      obj: withSlo(true, {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [
          condition('SLOMet', 'True', 'SLOMet', 'met at stage 2 (4 clients)'),
          condition('BenchmarkComplete', 'True', 'RunSucceeded', '40/40 requests'),
        ],
      }),
      status: 'Healthy',
    },
    {
      name: 'is Progressing when the status has no observedGeneration yet',
      obj: benchmark(1, { phase: 'Succeeded' }),
      status: 'Progressing',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = runHealthCheck(benchmarkCheck, c.obj);
      expect(result.status).toBe(c.status);
      if (c.message) expect(result.message).toMatch(c.message);
    });
  }
});

describe('the SlurmCluster health check', () => {
  const cases: { name: string; obj: JsonValue; status: string; message?: RegExp }[] = [
    {
      name: 'is Progressing before the operator has connected',
      obj: cluster(1, null),
      status: 'Progressing',
    },
    {
      name: 'is Progressing while Ready is Unknown',
      obj: cluster(1, {
        observedGeneration: 1,
        conditions: [condition('Ready', 'Unknown', 'Connecting', 'connecting to 127.0.0.1:2222')],
      }),
      status: 'Progressing',
    },
    {
      name: 'is Healthy when Ready and the monitoring job runs',
      obj: cluster(1, {
        observedGeneration: 1,
        conditions: [
          condition('Ready', 'True', 'Connected', 'Slurm 22.05.8'),
          condition('MonitoringReady', 'True', 'JobRunning'),
        ],
      }),
      status: 'Healthy',
    },
    {
      name: 'is Healthy when Ready and monitoring is disabled',
      obj: cluster(1, {
        observedGeneration: 1,
        conditions: [
          condition('Ready', 'True', 'Connected'),
          condition('MonitoringReady', 'True', 'Disabled'),
        ],
      }),
      status: 'Healthy',
    },
    {
      name: 'is Progressing while the monitoring job is pending in the queue',
      obj: cluster(1, {
        observedGeneration: 1,
        conditions: [
          condition('Ready', 'True', 'Connected'),
          condition('MonitoringReady', 'False', 'JobPending', 'job 12 pending: (Priority)'),
        ],
      }),
      status: 'Progressing',
      message: /JobPending: job 12 pending/,
    },
    {
      name: 'is Degraded when the monitoring job failed',
      obj: cluster(1, {
        observedGeneration: 1,
        conditions: [
          condition('Ready', 'True', 'Connected'),
          condition('MonitoringReady', 'False', 'JobFailed', 'prometheus exited 1'),
        ],
      }),
      status: 'Degraded',
    },
    {
      name: 'is Degraded when SSH authentication fails',
      obj: cluster(1, {
        observedGeneration: 1,
        conditions: [condition('Ready', 'False', 'AuthenticationFailed', 'the login node refused the key')],
      }),
      status: 'Degraded',
      message: /AuthenticationFailed/,
    },
    {
      name: 'is Progressing when observedGeneration lags generation, even if it was Ready',
      obj: cluster(4, {
        observedGeneration: 3,
        conditions: [
          condition('Ready', 'True', 'Connected'),
          condition('MonitoringReady', 'True', 'JobRunning'),
        ],
      }),
      status: 'Progressing',
      message: /generation 4/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const result = runHealthCheck(clusterCheck, c.obj);
      expect(result.status).toBe(c.status);
      if (c.message) expect(result.message).toMatch(c.message);
    });
  }
});

describe('the health checks and crds/conditions.ts', () => {
  it('name only condition types, phases and reasons that the API defines', async () => {
    const { BenchmarkConditionType, BenchmarkPhase, ClusterConditionType, ConditionReason } = await import(
      '../../crds/conditions.js'
    );
    const known = new Set<string>([
      ...Object.values(BenchmarkConditionType),
      ...Object.values(ClusterConditionType),
      ...Object.values(BenchmarkPhase),
      ...Object.values(ConditionReason),
    ]);
    for (const script of [benchmarkCheck, clusterCheck]) {
      const source = readFileSync(script, 'utf8');
      const compared = [
        ...source.matchAll(
          /(?:phase|reason) == "([A-Za-z]+)"|findCondition\(status, "([A-Za-z]+)"\)|^\s+([A-Za-z]+) = true,$/gm,
        ),
      ].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
      expect(compared.length).toBeGreaterThan(3);
      expect(compared.filter((word) => !known.has(word))).toEqual([]);
    }
  });
});
