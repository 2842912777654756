import ttest2 from '@stdlib/stats-ttest2';

/** Welch's two-sample t-test (unequal variances), two-sided, as R's `t.test(x, y)` does by default. */
export interface WelchResult {
  /** t statistic of mean(x) − mean(y). */
  t: number;
  /** Welch–Satterthwaite degrees of freedom (fractional). */
  df: number;
  pValue: number;
  meanX: number;
  meanY: number;
  /** 95 % confidence interval of mean(x) − mean(y). */
  ci95: [number, number];
}

/**
 * Compares two small samples, such as the output tokens/s of each repeat of two benchmarks. Needs at least two
 * values per sample; with zero variance in both the statistic is undefined and pValue is NaN.
 */
export function welchTTest(x: readonly number[], y: readonly number[]): WelchResult {
  if (x.length < 2 || y.length < 2) {
    throw new RangeError(
      `Welch's t-test needs at least 2 values per sample (got ${x.length} and ${y.length})`,
    );
  }
  const out = ttest2([...x], [...y], { variance: 'unequal', alternative: 'two-sided', alpha: 0.05 });
  const [lower = Number.NaN, upper = Number.NaN] = out.ci;
  return {
    t: out.statistic,
    df: out.df,
    pValue: out.pValue,
    meanX: out.xmean,
    meanY: out.ymean,
    ci95: [lower, upper],
  };
}
