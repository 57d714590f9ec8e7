// Variance forecasts from a frozen VolatilityFit, in their own container (spec → fit → forecast).
// For GARCH/GJR with symmetric innovations, E[h_{T+k}] = σ̄² + p^{k-1}·(h_{T+1} - σ̄²), with
// p = alpha + beta + gamma/2 and σ̄² = omega/(1-p). EWMA forecasts are flat: E[h_{T+k}] = h_{T+1}.
import { RiskkeeperError, assertInput } from "../../errors.ts";
import type { VolatilityFit } from "./spec.ts";

export interface VarianceForecast {
  /** Number of steps forecast (periods of the fitted returns). */
  readonly steps: number;
  /** E[h_{T+k}] for k = 1..steps (squared return units per period). */
  readonly perStep: Float64Array;
  /** Σ_{j≤k} E[h_{T+j}]: the variance of the k-period log return (ignoring the mean). */
  readonly cumulative: Float64Array;
  /** cumulative[steps-1]. */
  readonly totalVariance: number;
}

/** Max steps accepted, to keep accidental "forecast 10^9 steps" calls from allocating gigabytes. */
export const MAX_FORECAST_STEPS = 10_000_000;

/**
 * Forecast of the conditional variance `steps` periods ahead.
 * @example
 * const f = forecastVariance(fit, { steps: 24 });   // hourly fit → next day
 * Math.sqrt(f.totalVariance);                         // 24h log-return vol
 */
export function forecastVariance(fit: VolatilityFit, options: { steps: number }): VarianceForecast {
  const steps = options.steps;
  assertInput(Number.isInteger(steps) && steps >= 1 && steps <= MAX_FORECAST_STEPS, `must be an integer in [1, ${MAX_FORECAST_STEPS}], got ${steps}`, "steps", "MODEL_INPUT");
  const perStep = new Float64Array(steps);
  const cumulative = new Float64Array(steps);
  const h1 = fit.nextVariance;
  const p = fit.persistence;
  const uncond = fit.unconditionalVariance;
  let pk = 1;
  let sum = 0;
  for (let k = 0; k < steps; k++) {
    const v = uncond === undefined ? h1 : uncond + pk * (h1 - uncond);
    pk *= p;
    perStep[k] = v;
    sum += v;
    cumulative[k] = sum;
  }
  if (!Number.isFinite(sum)) throw new RiskkeeperError("MODEL_FIT", "variance forecast is not finite", { input: "fit" });
  return Object.freeze({ steps, perStep, cumulative, totalVariance: sum });
}

export interface HorizonVolatility {
  /** Horizon in periods of the fitted data (may be fractional). */
  readonly periods: number;
  /** Expected variance of the log return over the horizon. */
  readonly horizonVariance: number;
  /** sqrt(horizonVariance): the horizon log-return volatility. */
  readonly horizonVol: number;
  /** Average-variance vol annualised: sqrt(horizonVariance / periods · periodsPerYear). */
  readonly volAnnual: number;
}

/**
 * Annualised volatility for a pricer over a horizon, from a fit on returns sampled every
 * `periodSeconds`. A fractional last period contributes its fraction of that step's variance.
 * @example
 * forecastVolForHorizon(fit, { horizonSeconds: 7 * 86400, periodSeconds: 3600 }).volAnnual
 */
export function forecastVolForHorizon(
  fit: VolatilityFit, options: { horizonSeconds: number; periodSeconds: number; secondsPerYear?: number },
): HorizonVolatility {
  const { horizonSeconds, periodSeconds } = options;
  const secondsPerYear = options.secondsPerYear ?? 365 * 86400;
  assertInput(Number.isFinite(horizonSeconds) && horizonSeconds > 0, `must be > 0, got ${horizonSeconds}`, "horizonSeconds", "MODEL_INPUT");
  assertInput(Number.isFinite(periodSeconds) && periodSeconds > 0, `must be > 0, got ${periodSeconds}`, "periodSeconds", "MODEL_INPUT");
  assertInput(Number.isFinite(secondsPerYear) && secondsPerYear > 0, `must be > 0, got ${secondsPerYear}`, "secondsPerYear", "MODEL_INPUT");
  const periods = horizonSeconds / periodSeconds;
  const whole = Math.floor(periods);
  const frac = periods - whole;
  const f = forecastVariance(fit, { steps: whole + (frac > 0 ? 1 : 0) });
  const horizonVariance = (whole > 0 ? f.cumulative[whole - 1] : 0) + (frac > 0 ? frac * f.perStep[whole] : 0);
  return Object.freeze({
    periods,
    horizonVariance,
    horizonVol: Math.sqrt(horizonVariance),
    volAnnual: Math.sqrt((horizonVariance / periods) * (secondsPerYear / periodSeconds)),
  });
}

/** sqrt(variance per period × periodsPerYear). */
export function annualizeVol(variancePerPeriod: number, periodsPerYear: number): number {
  assertInput(Number.isFinite(variancePerPeriod) && variancePerPeriod >= 0, `must be finite and ≥ 0, got ${variancePerPeriod}`, "variancePerPeriod", "MODEL_INPUT");
  assertInput(Number.isFinite(periodsPerYear) && periodsPerYear > 0, `must be > 0, got ${periodsPerYear}`, "periodsPerYear", "MODEL_INPUT");
  return Math.sqrt(variancePerPeriod * periodsPerYear);
}
