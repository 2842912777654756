import anova1 from '@stdlib/stats-anova1';
import kruskalTest from '@stdlib/stats-kruskal-test';

/** One-way analysis of variance, as R's `summary(aov(value ~ group))`. */
export interface AnovaResult {
  f: number;
  dfTreatment: number;
  dfError: number;
  pValue: number;
}

/** Kruskal–Wallis rank-sum test with tie correction, as R's `kruskal.test(list(...))`. */
export interface KruskalWallisResult {
  /** The statistic R prints as "Kruskal-Wallis chi-squared". */
  h: number;
  df: number;
  pValue: number;
}

function flatten(groups: readonly (readonly number[])[]): { values: number[]; labels: string[] } {
  const values: number[] = [];
  const labels: string[] = [];
  groups.forEach((group, index) => {
    for (const value of group) {
      values.push(value);
      labels.push(`g${index}`);
    }
  });
  return { values, labels };
}

function checkGroups(test: string, groups: readonly (readonly number[])[], minPerGroup: number): void {
  if (groups.length < 2) throw new RangeError(`${test} needs at least 2 groups (got ${groups.length})`);
  const small = groups.findIndex((g) => g.length < minPerGroup);
  if (small >= 0) {
    throw new RangeError(`${test} needs at least ${minPerGroup} values per group (group ${small} has fewer)`);
  }
}

/** Compares the means of several groups, such as per-repeat throughput of three or more benchmarks. */
export function oneWayAnova(groups: readonly (readonly number[])[]): AnovaResult {
  checkGroups('ANOVA', groups, 1);
  const { values, labels } = flatten(groups);
  const out = anova1(values, labels);
  return {
    f: out.statistic,
    dfTreatment: out.treatment.df,
    dfError: out.error.df,
    pValue: out.pValue,
  };
}

/** Compares several groups by ranks, such as per-request latencies of three or more benchmarks. */
export function kruskalWallis(groups: readonly (readonly number[])[]): KruskalWallisResult {
  checkGroups('Kruskal-Wallis', groups, 1);
  const { values, labels } = flatten(groups);
  const out = kruskalTest(values, { groups: labels });
  return { h: out.statistic, df: out.df, pValue: out.pValue };
}
