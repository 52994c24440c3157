/**
 * Public surface of the report code: experiment reports, per-variant stats,
 * off-policy estimates and the interval helpers. Pure re-exports.
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
export { DEFAULT_THRESHOLD_GRID, defaultLambdaGrid, Estimate, evaluatePolicy, GridPoint, targetModel, OpeGrid, opeGrid, opeGridPrepared, opeRows, type OpeRow, PolicyEstimate } from "./ope.js";
export { diffBootstrap, diffNormal, diffWelch, Interval, meanInterval, wilson, Z95 } from "./stats.js";
