import { describe, expect, it } from 'vitest';
import { packFloat32, RESULTS_LABELS, ResultsKeys } from '../../crds/index.js';
import { renderReport } from '../report/index.js';
import { benchmarkName, CliError } from './kube.js';
import { newPart } from './logs.js';
import { reportInputOf } from './report.js';
import { decodeResults } from './results-data.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

describe('kubectl hpcbench, without a cluster', () => {
  it.each([
    ['ib/x', 'x'],
    ['inferencebenchmark/x', 'x'],
    ['inferencebenchmarks.hpcbench.io/x', 'x'],
    ['x', 'x'],
  ])('reads %s as the benchmark %s', (target, name) => {
    expect(benchmarkName(target)).toBe(name);
  });

  it('refuses a target of another kind with one line', () => {
    expect(() => benchmarkName('pod/x')).toThrow(CliError);
    expect(() => benchmarkName('ib/')).toThrow(/name is missing/);
  });

  it('logs -f prints only what is new, and says so when a gap was not kept', () => {
    // The log was 10 bytes, all printed; it grew to 14 and the tail holds its last 8.
    expect(newPart('efghijkl', 14, 10)).toEqual({ text: 'ijkl', skipped: 0 });
    // Nothing new.
    expect(newPart('efghijkl', 14, 14)).toEqual({ text: '', skipped: 0 });
    // 30 bytes written since the last read, but a tail keeps 8: 22 - 10 = 12 bytes are lost, and said.
    expect(newPart('wxyz0123', 40, 20)).toEqual({ text: 'wxyz0123', skipped: 12 });
  });

  it('decodes a sweep from a results ConfigMap and charts each level with its own samples', async () => {
    const stage = (n: number, clients: number) => ({
      stage: n,
      state: 'done',
      mode: 'closed',
      load: { clients, ratePerSecond: null },
      achieved: { concurrency: clients, ratePerSecond: null },
      repeatsDone: 1,
      requests: 3,
      succeeded: 3,
      failed: 0,
      wallTimeSeconds: 10,
      requestsPerSecond: clients / 2,
      outputTokensPerSecond: clients * 10,
      ttftMs: { p50: 100 * n, p90: 150 * n, p99: 200 * n },
      itlMs: { p50: 10, p90: 12, p99: 14 },
      tpotMs: { p50: 10, p90: 12, p99: 14 },
      e2eMs: { p50: 1000 * n, p90: 1500 * n, p99: 2000 * n },
      goodput: null,
      attainment: null,
      sloMet: null,
      sloMostViolated: null,
      errors: { timeout: 0, httpStatus: 0, streamError: 0, connection: 0 },
      repeat: null,
      warnings: [],
    });
    const distribution = { mean: 150, p50: 150, p90: 200, p95: 210, p99: 220 };
    const summary = {
      counts: { requests: 6, succeeded: 6, failed: 0, warmup: 0 },
      tokens: { output: 60, prompt: 30, estimatedOutputRequests: 0 },
      wallTimeSeconds: 20,
      requestsPerSecond: 0.3,
      outputTokensPerSecond: 3,
      ttftMs: distribution,
      itlMs: distribution,
      tpotMs: distribution,
      e2eMs: distribution,
      decodeTps: distribution,
      clientTps: distribution,
      errors: { timeout: 0, httpStatus: 0, streamError: 0, connection: 0 },
    };
    const results = decodeResults({
      metadata: {
        name: 'sweep-results-abc-g1',
        namespace: 'team',
        labels: { [RESULTS_LABELS.benchmark]: 'sweep', [RESULTS_LABELS.runId]: 'abc-g1' },
        annotations: { 'hpcbench.io/complete': 'true' },
      },
      data: {
        [ResultsKeys.summary]: JSON.stringify(summary),
        [ResultsKeys.stages]: JSON.stringify({ stages: [stage(1, 2), stage(2, 4)], saturation: null }),
        [ResultsKeys.environment]: JSON.stringify([
          { name: 'Model', value: 'gemma3:270m' },
          { name: 'Engine', value: 'ollama' },
          { name: 'Clients', value: '2' },
        ]),
        [ResultsKeys.log('server')]: 'ollama says hi\n',
      },
      binaryData: {
        [ResultsKeys.sample('ttftMs')]: b64(packFloat32([100, 110, null, 200, 210, 220])),
        [ResultsKeys.sample('tpotMs')]: b64(packFloat32([10, 11, 12, 20, 21, 22])),
        [ResultsKeys.sample('e2eMs')]: b64(packFloat32([1000, 1100, 1200, 2000, 2100, 2200])),
        [ResultsKeys.sampleStage]: b64(Uint8Array.from([1, 1, 1, 2, 2, 2])),
      },
    });
    expect(results.benchmark).toBe('sweep');
    expect(results.complete).toBe(true);
    expect(results.summary?.counts.requests).toBe(6);
    expect(results.samples.ttftMs[2]).toBeNull();
    const input = reportInputOf(results);
    expect(input.stages?.map((s) => s.load)).toEqual([2, 4]);
    expect(input.samples?.map((s) => [s.load, s.ttftMs])).toEqual([
      [2, [100, 110]],
      [4, [200, 210, 220]],
    ]);
    const html = await renderReport(input);
    expect(html).toContain('<svg');
  });
});
