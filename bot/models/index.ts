// Public API of the calibration models. Import from here ("bot/models/index.ts"), not from the
// files behind it: these names are kept stable (listed in docs/models.md).

// Volatility: spec → frozen fit → forecast.
export type {
  VolatilitySpec, ResolvedVolatilitySpec, VolatilityFit, VolatilityParams, VolatilityModel, InnovationDist,
  MeanModel, VarianceStart, VolatilityWarning, VolatilityWarningCode, ParamName,
} from "./volatility/spec.ts";
export { fitGarch, resolveVolatilitySpec } from "./volatility/fit.ts";
export { fitEwma, type EwmaOptions } from "./volatility/ewma.ts";
export {
  forecastVariance, forecastVolForHorizon, annualizeVol, type VarianceForecast, type HorizonVolatility,
} from "./volatility/forecast.ts";
export { simulateGarchSeries, type SimulateSeriesOptions } from "./volatility/simulate.ts";

// Seeded random numbers (for callers that need the same generator as the models).
export { createRng, type Rng } from "./common/prng.ts";

// Tail risk for margin buffers.
export { varEs, lossOf, type VarEs, type Side } from "./tail/measures.ts";
export { historicalVarEs, type HistoricalVarEsOptions, type TwoSidedVarEs } from "./tail/historical.ts";
export { fhsVarEs, DEFAULT_FHS_SPEC, type FhsVarEsOptions, type FhsResult } from "./tail/fhs.ts";
export { deriveHorizonSeconds, type HorizonInputs, type HorizonBreakdown } from "./tail/horizon.ts";
export {
  marginBufferBps, toBufferBps, type MarginBufferOptions, type MarginBuffer, type AntiProcyclicality,
} from "./tail/buffer.ts";

// Monte Carlo stress.
export { stressTest, type StressOptions, type StressResult, type QuantileRow } from "./stress/montecarlo.ts";

// Option smiles: raw SVI per expiry, butterfly and calendar checks, Black-76.
export {
  fitSviSlice, sviTotalVariance, sviImpliedVol, sviG, butterflyCheck, calendarCheck, MIN_QUOTES_PER_SLICE,
  type SviParams, type SviFit, type SliceQuotes, type CalendarViolation,
} from "./smile/svi.ts";
export { fitSmile, type OptionQuote, type SmileFit, type SmileSlice, type SmileSkip, type SmileWeighting } from "./smile/chain.ts";
export { black76Price, black76Vega, black76ImpliedVol, type OptionType } from "./smile/black.ts";

// Hedging under oracle latency.
export { simulateHedgeLatency, type HedgeLatencyOptions, type HedgeLatencyResult, type HedgeErrorSummary } from "./hedging/latency.ts";
