// EWMA (RiskMetrics) convenience wrapper over fitGarch: h_t = lambda·h_{t-1} + (1-lambda)·e_{t-1}².
import type { InnovationDist, MeanModel, VolatilityFit } from "./spec.ts";
import { fitGarch } from "./fit.ts";

export interface EwmaOptions {
  /** Decay; default 0.94 (RiskMetrics daily). Ignored when estimateLambda is true. */
  lambda?: number;
  /** Estimate lambda by maximum likelihood instead of fixing it. */
  estimateLambda?: boolean;
  dist?: InnovationDist;
  /** Default "zero" (RiskMetrics); "constant" estimates mu. */
  mean?: MeanModel;
}

/**
 * @example
 * fitEwma(returns).nextVariance                       // λ = 0.94, zero mean
 * fitEwma(returns, { estimateLambda: true }).params.lambda
 */
export function fitEwma(returns: ArrayLike<number>, options: EwmaOptions = {}): VolatilityFit {
  return fitGarch(returns, {
    model: "ewma", lambda: options.lambda, estimateLambda: options.estimateLambda,
    dist: options.dist, mean: options.mean ?? "zero",
  });
}
