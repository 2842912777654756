export {
  type EnvironmentEntry,
  type LoadUnit,
  type ReportInput,
  reportInputFromBenchmark,
  type SloCheck,
  type SloVerdict,
  type StageSamples,
  type StageSummary,
  stagesOf,
} from './input.js';
export { renderReport } from './report.js';
