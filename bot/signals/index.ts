// Stress signals: pure functions of data (no I/O, no clock; "now" is always an argument).
export { SECONDS_PER_YEAR, periodsPerYear, closeToCloseVol, parkinsonVol, garmanKlassVol, ewmaVol } from "./realised.ts";
export { drawdownOver, type Drawdown } from "./drawdown.ts";
export { detectJumps, type Jump } from "./jumps.ts";
export { oracleStaleness, oracleDeviation, sequencerStatus, type Staleness, type SequencerStatus } from "./oracle.ts";
export { gasCongestion, quantile, type GasCongestion } from "./gas.ts";
export {
  DEFAULT_STRESS_CONFIG, LEVELS, resolveStressConfig, levelOf, maxLevel,
  type StressConfig, type StressConfigInput, type StressLevel, type Bands,
} from "./config.ts";
export {
  stressSnapshot,
  type StressSnapshot, type StressReason, type StressMetrics, type StressInputs, type OracleHistory, type TimeSeries,
} from "./snapshot.ts";
