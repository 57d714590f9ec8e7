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
