import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import ranks from '@stdlib/stats-ranks';

/** Mann–Whitney U (Wilcoxon rank-sum) test, two-sided, normal approximation. */
export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (x, y) with x > y, ties counting one half. R calls it W. */
  u: number;
  /** Standardised statistic after tie and continuity correction. */
  z: number;
  pValue: number;
  /**
   * Common-language effect size U / (nX·nY): the probability that a value of x exceeds one of y (ties
   * count one half). 0.5 means no shift.
   */
  commonLanguage: number;
  /** Rank-biserial correlation 2·CL − 1, in [−1, 1]; positive when x tends to be larger. */
  rankBiserial: number;
  nX: number;
  nY: number;
}

/**
 * Compares two sets of per-request samples (TTFT, TPOT, e2e), which are skewed and have outliers, so a rank
 * test fits better than a t-test.
 *
 * @stdlib has no Mann–Whitney test, so the U formula and its normal approximation are written here, and
 * nothing else: ranks (average ranks for ties) come from @stdlib/stats-ranks and the normal CDF from
 * @stdlib/stats-base-dists-normal-cdf. The approximation is R's `wilcox.test(x, y, exact = FALSE,
 * correct = TRUE)`: tie-corrected variance and a continuity correction of 0.5 towards the mean. Per-request
 * samples of a benchmark run are hundreds of values with ties (millisecond clocks), where R itself falls back
 * to this approximation; it is not an exact test for tiny samples.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): MannWhitneyResult {
  const nX = x.length;
  const nY = y.length;
  if (nX === 0 || nY === 0) {
    throw new RangeError(`Mann-Whitney U needs values in both samples (got ${nX} and ${nY})`);
  }
  const pooled = [...x, ...y];
  const n = pooled.length;
  const rank = ranks(pooled, { method: 'average' });
  let rankSumX = 0;
  for (let i = 0; i < nX; i++) rankSumX += rank[i] ?? Number.NaN;
  const u = rankSumX - (nX * (nX + 1)) / 2;

  // Tie correction: each group of t equal values lowers the variance by (t³ − t) / (n(n − 1)).
  const tieSizes = new Map<number, number>();
  for (const value of pooled) tieSizes.set(value, (tieSizes.get(value) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of tieSizes.values()) tieTerm += t * t * t - t;
  const variance = ((nX * nY) / 12) * (n + 1 - (n > 1 ? tieTerm / (n * (n - 1)) : 0));

  const shift = u - (nX * nY) / 2;
  const continuity = Math.sign(shift) * 0.5;
  const z = variance > 0 ? (shift - continuity) / Math.sqrt(variance) : Number.NaN;
  const pValue = Number.isNaN(z) ? Number.NaN : Math.min(1, 2 * normalCdf(-Math.abs(z), 0, 1));
  const commonLanguage = u / (nX * nY);
  return { u, z, pValue, commonLanguage, rankBiserial: 2 * commonLanguage - 1, nX, nY };
}
