export { type AnovaResult, type KruskalWallisResult, kruskalWallis, oneWayAnova } from './anova.js';
export { coefficientOfVariation, type MeanInterval, meanConfidenceInterval } from './describe.js';
export { type MannWhitneyResult, mannWhitneyU } from './mann-whitney.js';
export { type WelchResult, welchTTest } from './welch.js';
