import { beforeAll, describe, expect, it } from 'vitest';
import {
  BenchmarkConditionType,
  BenchmarkPhase,
  type BenchmarkResults,
  ClusterConditionType,
  ConditionReason,
  formatProgress,
  type InferenceBenchmarkStatus,
  parseInferenceBenchmark,
  parseSlurmCluster,
  type SlurmClusterStatus,
} from '../../crds/index.js';
import { kubectl, kubectlOk } from '../support/kube-cli.js';
import { freshNamespace, installCrds, kubectlApply } from './api-support.js';

const now = '2026-11-28T12:00:00Z';
const distribution = (p50: number) => ({ mean: p50 * 1.1, p50, p90: p50 * 2, p95: p50 * 3, p99: p50 * 4 });

const results: BenchmarkResults = {
  runId: 'uid-1',
  counts: { requests: 1000, succeeded: 998, failed: 2, warmup: 0 },
  tokens: { output: 256_000, prompt: 20_000, estimatedOutputRequests: 0 },
  wallTimeSeconds: 200,
  requestsPerSecond: 4.99,
  outputTokensPerSecond: 1280.5,
  ttftMs: distribution(85.25),
  itlMs: distribution(12),
  tpotMs: distribution(12.5),
  e2eMs: distribution(3300),
  decodeTps: distribution(80),
  clientTps: distribution(77),
  errors: { timeout: 1, httpStatus: 0, streamError: 1, connection: 0 },
};

const benchmarkStatus: InferenceBenchmarkStatus = {
  observedGeneration: 1,
  phase: BenchmarkPhase.Succeeded,
  runId: 'uid-1',
  conditions: [
    {
      type: BenchmarkConditionType.Ready,
      status: 'True',
      reason: ConditionReason.RunSucceeded,
      message: '998 of 1000 requests succeeded',
      lastTransitionTime: now,
      observedGeneration: 1,
    },
  ],
  slurmJobs: [
    { role: 'server', id: '101', state: 'COMPLETED', node: 'gpu01', exitCode: '0:0', startTime: now },
    { role: 'client', id: '102', state: 'COMPLETED', node: 'cpu07', exitCode: '0:0' },
  ],
  endpoints: { ollama: 'gpu01:11434', clientService: 'cpu07:40123' },
  progress: {
    completedRequests: 1000,
    failedRequests: 2,
    totalRequests: 1000,
    display: formatProgress(1000, 1000),
  },
  results,
  // What the operator writes beside results (display.ts): the columns print these strings.
  display: { outputTokensPerSecond: '1280.5', ttftP50Ms: '85' },
  startTime: now,
  completionTime: now,
};

const clusterStatus: SlurmClusterStatus = {
  observedGeneration: 1,
  conditions: [
    {
      type: ClusterConditionType.Ready,
      status: 'True',
      reason: ConditionReason.Connected,
      message: '',
      lastTransitionTime: now,
    },
    {
      type: ClusterConditionType.MonitoringReady,
      status: 'False',
      reason: ConditionReason.JobPending,
      message: 'monitoring job 7 pending: Resources',
      lastTransitionTime: now,
    },
  ],
  slurmVersion: '22.05.8',
  partitions: [{ name: 'cpu', state: 'up', nodes: 1, cpus: 8, memoryMB: 8000 }],
  monitoring: { jobId: '7', state: 'PENDING' },
  lastProbeTime: now,
};

function columnsOf(table: string): { header: string[]; rows: string[][] } {
  const [header = '', ...rows] = table.trim().split('\n');
  const split = (line: string) => line.trim().split(/\s{2,}/);
  return { header: split(header), rows: rows.map(split) };
}

describe('printer columns with a status set through the status subresource', () => {
  let namespace = '';
  beforeAll(async () => {
    await installCrds();
    namespace = await freshNamespace('api-columns');
    const benchmark = {
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'InferenceBenchmark',
      metadata: { name: 'llama2-100c' },
      spec: {
        clusterRef: { name: 'c1' },
        model: { name: 'llama2' },
        workload: { clients: 100, requestsPerClient: 10 },
      },
    };
    const cluster = {
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'SlurmCluster',
      metadata: { name: 'c1' },
      spec: { host: 'login.example.org', user: 'u1', sshSecretRef: { name: 's' } },
    };
    for (const object of [benchmark, cluster]) {
      const result = await kubectlApply(object, namespace);
      expect(result.stderr).toBe('');
    }
    await kubectlOk([
      'patch',
      '-n',
      namespace,
      'ib',
      'llama2-100c',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: benchmarkStatus }),
    ]);
    await kubectlOk([
      'patch',
      '-n',
      namespace,
      'slurmcluster',
      'c1',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: clusterStatus }),
    ]);
  });

  it('kubectl get ib prints Phase, Model, Clients, Progress, Tok/s, TTFT p50 and Age', async () => {
    const { header, rows } = columnsOf(await kubectlOk(['get', 'ib', '-n', namespace]));
    expect(header).toEqual(['NAME', 'PHASE', 'MODEL', 'CLIENTS', 'PROGRESS', 'TOK/S', 'TTFT P50', 'AGE']);
    expect(rows[0]?.slice(0, 7)).toEqual([
      'llama2-100c',
      'Succeeded',
      'llama2',
      '100',
      '1000/1000',
      '1280.5',
      '85',
    ]);
  });

  it('kubectl get ibench and inferencebenchmarks are the same table', async () => {
    const short = await kubectlOk(['get', 'ibench', '-n', namespace, '--no-headers']);
    const long = await kubectlOk(['get', 'inferencebenchmarks', '-n', namespace, '--no-headers']);
    expect(short.split(/\s+/).slice(0, 7)).toEqual(long.split(/\s+/).slice(0, 7));
  });

  it('kubectl get hpcbench lists both kinds with their columns', async () => {
    const table = await kubectlOk(['get', 'hpcbench', '-n', namespace]);
    // One table per kind, in discovery order.
    const tables = table
      .trim()
      .split(/\n\s*\n/)
      .map(columnsOf);
    const clusterTable = tables.find((t) => t.header.includes('HOST'));
    const benchmarkTable = tables.find((t) => t.header.includes('PHASE'));
    expect(clusterTable?.header).toEqual(['NAME', 'READY', 'HOST', 'SLURM VERSION', 'MONITORING', 'AGE']);
    expect(clusterTable?.rows[0]?.slice(0, 5)).toEqual([
      'slurmcluster.hpcbench.io/c1',
      'True',
      'login.example.org',
      '22.05.8',
      'False',
    ]);
    expect(benchmarkTable?.header).toEqual([
      'NAME',
      'PHASE',
      'MODEL',
      'CLIENTS',
      'PROGRESS',
      'TOK/S',
      'TTFT P50',
      'AGE',
    ]);
    expect(benchmarkTable?.rows[0]?.[0]).toBe('inferencebenchmark.hpcbench.io/llama2-100c');
  });

  it('keeps the status the operator wrote, and the zod schemas read it back', async () => {
    const benchmark = JSON.parse(
      await kubectlOk(['get', '-n', namespace, 'ib', 'llama2-100c', '-o', 'json']),
    ) as {
      status: unknown;
    };
    expect(benchmark.status).toEqual(benchmarkStatus);
    const parsed = parseInferenceBenchmark(benchmark);
    expect(parsed.ok ? '' : parsed.message).toBe('');
    const cluster = JSON.parse(await kubectlOk(['get', '-n', namespace, 'slurmcluster', 'c1', '-o', 'json']));
    const parsedCluster = parseSlurmCluster(cluster);
    expect(parsedCluster.ok ? '' : parsedCluster.message).toBe('');
  });

  it('refuses a status the schema forbids, through the subresource too', async () => {
    const result = await kubectl([
      'patch',
      '-n',
      namespace,
      'ib',
      'llama2-100c',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { phase: 'Exploded' } }),
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('status.phase');
  });

  it('lets `kubectl wait` see the Ready condition', async () => {
    await kubectlOk(['wait', '-n', namespace, '--for=condition=Ready', 'ib/llama2-100c', '--timeout=10s']);
  });
});
