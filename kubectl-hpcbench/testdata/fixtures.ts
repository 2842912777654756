import type { BenchmarkResults, Distribution } from '../../crds/benchmark-results.js';

/** A deterministic pseudo-random source (mulberry32), so fixtures are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` latencies with median `median` ms and a right tail, as real request latencies have: log-normal with the
 * given spread, rounded to 0.1 ms like the client-service's records.
 */
export function latencySamples(n: number, median: number, spread: number, seed: number): number[] {
  const random = seededRandom(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = Math.max(random(), 1e-12);
    const v = random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    out.push(Math.round(median * Math.exp(spread * normal) * 10) / 10);
  }
  return out;
}

/** The quantile R calls type 7 (linear between order statistics), for fixtures that must agree with samples. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] ?? Number.NaN;
  return a + (h - lo) * (b - a);
}

export function distributionOf(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? null : sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return {
    mean,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p95: quantile(sorted, 0.95),
    p99: quantile(sorted, 0.99),
  };
}

const EMPTY: Distribution = { mean: null, p50: null, p90: null, p95: null, p99: null };

export interface ResultsFigures {
  requests?: number;
  outputTokensPerSecond: number | null;
  requestsPerSecond: number | null;
  ttftMs?: Distribution;
  tpotMs?: Distribution;
  e2eMs?: Distribution;
}

/** A complete `status.results` with the given headline figures; the rest is plausible filler. */
export function benchmarkResults(figures: ResultsFigures): BenchmarkResults {
  const requests = figures.requests ?? 100;
  const wall = figures.requestsPerSecond ? requests / figures.requestsPerSecond : null;
  return {
    counts: { requests, succeeded: requests, failed: 0, warmup: 4 },
    tokens: {
      output: wall && figures.outputTokensPerSecond ? Math.round(wall * figures.outputTokensPerSecond) : 0,
      prompt: requests * 20,
      estimatedOutputRequests: 0,
    },
    wallTimeSeconds: wall,
    requestsPerSecond: figures.requestsPerSecond,
    outputTokensPerSecond: figures.outputTokensPerSecond,
    ttftMs: figures.ttftMs ?? EMPTY,
    itlMs: EMPTY,
    tpotMs: figures.tpotMs ?? EMPTY,
    e2eMs: figures.e2eMs ?? EMPTY,
    decodeTps: EMPTY,
    clientTps: EMPTY,
    errors: { timeout: 0, httpStatus: 0, streamError: 0, connection: 0 },
  };
}

/** One run with per-request samples drawn around the given medians, and results that agree with them. */
export function runWithSamples(
  name: string,
  medians: { ttftMs: number; tpotMs: number; e2eMs: number },
  throughput: { outputTokensPerSecond: number; requestsPerSecond: number },
  seed: number,
  n = 200,
) {
  const samples = {
    ttftMs: latencySamples(n, medians.ttftMs, 0.35, seed),
    tpotMs: latencySamples(n, medians.tpotMs, 0.2, seed + 1),
    e2eMs: latencySamples(n, medians.e2eMs, 0.25, seed + 2),
  };
  const results = benchmarkResults({
    requests: n,
    ...throughput,
    ttftMs: distributionOf(samples.ttftMs),
    tpotMs: distributionOf(samples.tpotMs),
    e2eMs: distributionOf(samples.e2eMs),
  });
  return { name, results, samples };
}
