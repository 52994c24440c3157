/**
 * Public surface of the report code: experiment reports, per-variant stats,
 * off-policy estimates, the bounded-memory summary path and the interval
 * helpers. Pure re-exports.
 */
export { ExperimentReport, experimentReport, logsExploration, NO_VARIANT, type ReportOptions } from "./experiment-report.js";
export {
  BOOTSTRAP_MAX_N,
  calibration,
  chosenP,
  ModelShare,
  ReliabilityBin,
  rowCost,
  VariantDifference,
  variantDifference,
  VariantStats,
  variantStats,
} from "./variant-stats.js";
export {
  DEFAULT_THRESHOLD_GRID,
  defaultLambdaGrid,
  Estimate,
  evaluatePolicy,
  GridPoint,
  LAMBDA_ANCHOR_ROWS,
  OpeGrid,
  opeGrid,
  opeGridPrepared,
  opeRows,
  type OpeRow,
  OpeStream,
  PolicyAccumulator,
  PolicyEstimate,
  targetModel,
} from "./ope.js";
export { binOf, boundedReport, opeSample, summarise, summaryPlan, summaryReport, type FeedbackGroup, type ReportSource, type RowGroup, type Summary } from "./summary.js";
export { diffBootstrap, diffNormal, diffOfMoments, diffWelch, Interval, meanInterval, meanIntervalOf, momentsFromSums, RunningMoments, wilson, Z95 } from "./stats.js";
