import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import { describe, expect, it } from 'vitest';
import { kruskalWallis, oneWayAnova } from './anova.js';
import { coefficientOfVariation, meanConfidenceInterval } from './describe.js';
import { mannWhitneyU } from './mann-whitney.js';
import {
  mtcarsMpgByTransmission as mtcars,
  airqualityOzoneByMonth as ozone,
  plantGrowth,
  sleep,
} from './testdata/r-datasets.js';
import { welchTTest } from './welch.js';

/** Asserts agreement to `digits` significant digits, the precision R prints by default. */
function expectSignificant(actual: number, expected: number, digits = 4): void {
  expect(Number(actual.toPrecision(digits))).toBe(Number(expected.toPrecision(digits)));
}

describe("Welch's t-test", () => {
  // R, ?t.test example: t.test(extra ~ group, data = sleep)
  //   t = -1.8608, df = 17.776, p-value = 0.07939
  //   95 percent confidence interval: -3.3654832  0.2054832; sample means 0.75 and 2.33
  it('matches R on the sleep data', () => {
    const r = welchTTest(sleep.group1, sleep.group2);
    expectSignificant(r.t, -1.8608);
    expectSignificant(r.df, 17.776);
    expectSignificant(r.pValue, 0.07939);
    expectSignificant(r.ci95[0], -3.3654832);
    expectSignificant(r.ci95[1], 0.2054832);
    expect(r.meanX).toBeCloseTo(0.75, 12);
    expect(r.meanY).toBeCloseTo(2.33, 12);
  });

  it('refuses a sample with fewer than two values', () => {
    expect(() => welchTTest([1], [1, 2])).toThrow(RangeError);
  });
});

describe('Mann-Whitney U', () => {
  // R, ?wilcox.test example: wilcox.test(Ozone ~ Month, data = airquality, subset = Month %in% c(5, 8))
  //   W = 127.5, p-value = 0.0001208 (ties, so R uses the normal approximation with correct = TRUE)
  it('matches R on airquality Ozone, May against August', () => {
    const r = mannWhitneyU(ozone.may, ozone.august);
    expect(r.u).toBe(127.5);
    expectSignificant(r.pValue, 0.0001208);
    // 127.5 / (26 · 26): a May day has an 18.9 % chance of more ozone than an August day.
    expectSignificant(r.commonLanguage, 127.5 / 676);
    expectSignificant(r.rankBiserial, (2 * 127.5) / 676 - 1);
  });

  // R: wilcox.test(mpg ~ am, data = mtcars)   W = 42, p-value = 0.001871
  // (printed with the ties warning in many tutorials, e.g. STHDA's "Unpaired Two-Samples Wilcoxon Test in R")
  it('matches R on mtcars mpg, automatic against manual', () => {
    const r = mannWhitneyU(mtcars.automatic, mtcars.manual);
    expect(r.u).toBe(42);
    expectSignificant(r.pValue, 0.001871);
  });

  it('is symmetric: swapping the samples gives U = nX·nY − U, the same p and the opposite effect', () => {
    const ab = mannWhitneyU(ozone.may, ozone.august);
    const ba = mannWhitneyU(ozone.august, ozone.may);
    expect(ba.u).toBe(26 * 26 - ab.u);
    expect(ba.pValue).toBeCloseTo(ab.pValue, 12);
    expect(ba.rankBiserial).toBeCloseTo(-ab.rankBiserial, 12);
  });

  it('gives p = 1 and no effect for identical samples', () => {
    const r = mannWhitneyU([1, 2, 3, 4], [1, 2, 3, 4]);
    expect(r.pValue).toBe(1);
    expect(r.rankBiserial).toBe(0);
  });
});

describe('one-way ANOVA', () => {
  // R, ?PlantGrowth / Dobson (1983): anova(lm(weight ~ group, data = PlantGrowth))
  //   group Df 2, Sum Sq 3.7663; Residuals Df 27; F value 4.8461, Pr(>F) 0.01591
  it('matches R on PlantGrowth', () => {
    const r = oneWayAnova([plantGrowth.ctrl, plantGrowth.trt1, plantGrowth.trt2]);
    expectSignificant(r.f, 4.8461);
    expectSignificant(r.pValue, 0.01591);
    expect([r.dfTreatment, r.dfError]).toEqual([2, 27]);
  });
});

describe('Kruskal-Wallis', () => {
  // R, ?kruskal.test example: kruskal.test(Ozone ~ Month, data = airquality)
  //   Kruskal-Wallis chi-squared = 29.267, df = 4, p-value = 6.901e-06
  it('matches R on airquality Ozone by Month', () => {
    const r = kruskalWallis([ozone.may, ozone.june, ozone.july, ozone.august, ozone.september]);
    expectSignificant(r.h, 29.267);
    expect(r.df).toBe(4);
    expectSignificant(r.pValue, 6.901e-6);
  });

  it('refuses a single group', () => {
    expect(() => kruskalWallis([[1, 2, 3]])).toThrow(RangeError);
  });
});

describe('confidence interval of a mean and coefficient of variation', () => {
  // Student's t table: t(0.975, 9) = 2.262
  it('takes its quantile from the t distribution', () => {
    expectSignificant(tQuantile(0.975, 9), 2.262);
  });

  // R: t.test(sleep$extra[sleep$group == 1])   mean 0.75, 95 percent CI -0.5297804 2.0297804
  it('matches R on sleep, drug 1', () => {
    const ci = meanConfidenceInterval(sleep.group1);
    expect(ci.mean).toBeCloseTo(0.75, 12);
    expectSignificant(ci.lower, -0.5297804);
    expectSignificant(ci.upper, 2.0297804);
    expectSignificant(ci.sd, 1.78901);
  });

  // R: sd(PlantGrowth$weight[PlantGrowth$group == "ctrl"]) = 0.5830914, mean 5.032
  it('divides the sample sd by the mean', () => {
    expectSignificant(coefficientOfVariation(plantGrowth.ctrl) ?? Number.NaN, 0.5830914 / 5.032);
  });

  it('says null rather than 0 when it cannot be computed', () => {
    expect(coefficientOfVariation([3])).toBeNull();
    expect(coefficientOfVariation([-1, 1])).toBeNull();
  });
});
