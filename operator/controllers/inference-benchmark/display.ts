import type { BenchmarkDisplay, BenchmarkResults } from '../../../crds/index.js';

type Display = BenchmarkDisplay;

/**
 * The results as `kubectl get ib` prints them (status.display): tokens per second with one decimal, TTFT in
 * whole ms. A printer column cannot do this itself: type number prints 13.814, type integer truncates, and
 * JSONPath has no arithmetic. A figure that cannot be computed (null) has no display either.
 */
export function displayOf(results: BenchmarkResults | undefined): Display | undefined {
  if (!results) return undefined;
  const display: Display = {};
  const tps = results.outputTokensPerSecond;
  if (tps !== null && Number.isFinite(tps)) display.outputTokensPerSecond = tps.toFixed(1);
  const ttft = results.ttftMs.p50;
  if (ttft !== null && Number.isFinite(ttft)) display.ttftP50Ms = Math.round(ttft).toString();
  return Object.keys(display).length > 0 ? display : undefined;
}
