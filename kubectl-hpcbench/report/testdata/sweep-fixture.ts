import { InferenceBenchmark } from '../../../crds/inference-benchmark.js';
import { benchmarkResults, distributionOf, latencySamples } from '../../testdata/fixtures.js';
import type { ReportInput, StageSamples, StageSummary } from '../input.js';

/** Clients per level of the sweep fixture. */
export const SWEEP_LOADS = [1, 2, 4, 8, 16, 32] as const;

const SAMPLES_PER_LEVEL = 240;

/**
 * A plausible sweep of gemma3:270m on one GPU: throughput saturates around 16 clients while queueing makes
 * TTFT grow, as a continuous-batching server behaves. Samples are drawn around those medians.
 */
function level(load: number, index: number): { stage: StageSummary; samples: StageSamples } {
  const ttftMedian = 45 + 6 * load + (load > 8 ? 14 * (load - 8) : 0);
  const tpotMedian = 11 + 0.55 * load;
  const outputTokens = 180;
  const samples: StageSamples = {
    load,
    ttftMs: latencySamples(SAMPLES_PER_LEVEL, ttftMedian, 0.3, 10 + index * 3),
    tpotMs: latencySamples(SAMPLES_PER_LEVEL, tpotMedian, 0.12, 11 + index * 3),
    e2eMs: latencySamples(
      SAMPLES_PER_LEVEL,
      ttftMedian + tpotMedian * (outputTokens - 1),
      0.15,
      12 + index * 3,
    ),
  };
  const e2e = distributionOf(samples.e2eMs);
  const requestsPerSecond = load / ((e2e.mean ?? 1) / 1000);
  const stage: StageSummary = {
    load,
    outputTokensPerSecond: requestsPerSecond * outputTokens,
    requestsPerSecond,
    // Share of requests with TTFT ≤ 250 ms, times the request rate.
    goodput: requestsPerSecond * (samples.ttftMs.filter((ms) => ms <= 250).length / SAMPLES_PER_LEVEL),
    ttftMs: distributionOf(samples.ttftMs),
    tpotMs: distributionOf(samples.tpotMs),
    e2eMs: e2e,
  };
  return { stage, samples };
}

export function sweepReportInput(): ReportInput {
  const levels = SWEEP_LOADS.map((load, i) => level(load, i));
  const stages = levels.map((l) => l.stage);
  const samples = levels.map((l) => l.samples);
  const last = stages[stages.length - 1];
  const meets = stages.filter((s) => (s.ttftMs.p99 ?? Number.POSITIVE_INFINITY) <= 500);
  const largest = meets[meets.length - 1];
  return {
    name: 'gemma3-sweep-gpu-a100',
    namespace: 'benchmarks',
    model: 'gemma3:270m',
    engine: 'ollama',
    phase: 'Succeeded',
    when: '2026-11-28T14:03:27Z',
    loadUnit: 'clients',
    results: benchmarkResults({
      requests: SAMPLES_PER_LEVEL,
      outputTokensPerSecond: last?.outputTokensPerSecond ?? null,
      requestsPerSecond: last?.requestsPerSecond ?? null,
      ...(last ? { ttftMs: last.ttftMs, tpotMs: last.tpotMs, e2eMs: last.e2eMs } : {}),
    }),
    stages,
    samples,
    environment: [
      { name: 'engine', value: 'ollama 0.24.0' },
      { name: 'model digest', value: 'sha256:3f2a9c1e7b0d' },
      { name: 'server node', value: 'gpu-node-07 (SLURM job 48121, partition gpu)' },
      { name: 'GPU', value: '1 x NVIDIA A100-SXM4-40GB, driver 550.54' },
      { name: 'client node', value: 'cpu-node-12 (SLURM job 48122, 2 CPUs)' },
      { name: 'spec hash', value: '9d41c07e' },
      { name: 'seed', value: '42' },
    ],
    slo: {
      met: largest !== undefined,
      summary: largest
        ? `largest load that meets every check: ${largest.load} clients`
        : 'no load level meets it',
      checks: [
        {
          metric: 'TTFT p99',
          limit: '≤ 500 ms',
          observed: largest?.ttftMs.p99 ?? null,
          unit: 'ms',
          met: !!largest,
        },
        {
          metric: 'TPOT p50',
          limit: '≤ 50 ms',
          observed: largest?.tpotMs.p50 ?? null,
          unit: 'ms',
          met: !!largest,
        },
      ],
    },
  };
}

/** A benchmark as the apiserver returns it today: one level (workload.clients), results, nothing more. */
export function singleLevelBenchmark(): InferenceBenchmark {
  return InferenceBenchmark.parse({
    apiVersion: 'hpcbench.io/v1alpha1',
    kind: 'InferenceBenchmark',
    metadata: { name: 'gemma3-smoke', namespace: 'benchmarks', creationTimestamp: '2026-11-28T13:58:00Z' },
    // Only what a user writes: parsing fills the defaults, as the apiserver does.
    spec: {
      clusterRef: { name: 'sandbox' },
      model: { name: 'gemma3:270m' },
      workload: { clients: 4, requestsPerClient: 5 },
    },
    status: {
      phase: 'Succeeded',
      completionTime: '2026-11-28T14:01:12Z',
      results: benchmarkResults({
        requests: 20,
        outputTokensPerSecond: 41.3,
        requestsPerSecond: 0.42,
        ttftMs: { mean: 830.2, p50: 812.5, p90: 990.1, p95: 1010.4, p99: 1040.9 },
        tpotMs: { mean: 21.4, p50: 21.1, p90: 23.9, p95: 24.2, p99: 24.8 },
        e2eMs: { mean: 9420.5, p50: 9388.0, p90: 10210.7, p95: 10302.2, p99: 10377.5 },
      }),
    },
  });
}
