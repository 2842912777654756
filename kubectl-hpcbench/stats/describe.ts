import tQuantile from '@stdlib/stats-base-dists-t-quantile';

/** Mean with a two-sided confidence interval from Student's t distribution. */
export interface MeanInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator). */
  sd: number;
  lower: number;
  upper: number;
  /** Half the width of the interval: mean ± halfWidth. */
  halfWidth: number;
  level: number;
}

// The mean and variance are the two sums below. @stdlib has them (stats-strided-mean, -variance), but only as
// transitive dependencies of the tests here; importing an undeclared package would break on the next lock
// update, and declaring it means a package.json change outside this folder.
function meanOf(x: readonly number[]): number {
  let sum = 0;
  for (const v of x) sum += v;
  return sum / x.length;
}

function sampleSd(x: readonly number[], mean: number): number {
  let squares = 0;
  for (const v of x) squares += (v - mean) * (v - mean);
  return Math.sqrt(squares / (x.length - 1));
}

/**
 * The confidence interval of a mean, as R's `t.test(x)$conf.int`: mean ± t(1 − α/2, n − 1) · sd / √n.
 * Needs at least two values.
 */
export function meanConfidenceInterval(x: readonly number[], level = 0.95): MeanInterval {
  if (x.length < 2) throw new RangeError(`a confidence interval needs at least 2 values (got ${x.length})`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must be between 0 and 1 (got ${level})`);
  const mean = meanOf(x);
  const sd = sampleSd(x, mean);
  const halfWidth = tQuantile(1 - (1 - level) / 2, x.length - 1) * (sd / Math.sqrt(x.length));
  return { n: x.length, mean, sd, lower: mean - halfWidth, upper: mean + halfWidth, halfWidth, level };
}

/**
 * Coefficient of variation sd / mean (sample sd): how much repeats of one benchmark scatter, independent of
 * the unit. Null when it cannot be computed (fewer than two values, or a zero mean).
 */
export function coefficientOfVariation(x: readonly number[]): number | null {
  if (x.length < 2) return null;
  const mean = meanOf(x);
  if (mean === 0) return null;
  return sampleSd(x, mean) / Math.abs(mean);
}
