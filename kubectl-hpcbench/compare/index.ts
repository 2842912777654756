export {
  type ComparisonRow,
  type ComparisonTable,
  compareRuns,
  type MetricKey,
  NOT_TESTED,
  type Regression,
  type RepeatThroughputs,
  type RequestSamples,
  type RunToCompare,
  regressed,
  type Verdict,
} from './compare.js';
export { formatVerdict, renderComparisonJson, renderComparisonText } from './render.js';
