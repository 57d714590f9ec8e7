// Volatility model specification (what to fit) and the frozen fit result (what was fitted), kept
// apart as in `arch`: a spec is plain data; `fitGarch(returns, spec)` returns a VolatilityFit that
// never changes; `forecastVariance(fit, ...)` returns its own container (see forecast.ts).

export type VolatilityModel = "ewma" | "garch" | "gjr";
export type InnovationDist = "normal" | "t";
export type MeanModel = "constant" | "zero";
/**
 * How the variance recursion is started. Both set the pre-sample shock and variance to a backcast b
 * (h_0 = omega + (alpha + gamma/2 + beta)·b):
 * - "sample": b = mean of squared residuals over the whole sample (certified dem2gbp convention).
 * - "ewma-backcast": b = Σ 0.94^j e_j² / Σ 0.94^j over the first 75 residuals (`arch`'s backcast).
 */
export type VarianceStart = "sample" | "ewma-backcast";

export interface VolatilitySpec {
  model: VolatilityModel;
  dist?: InnovationDist; // default "normal"
  mean?: MeanModel; // default "constant"
  varianceStart?: VarianceStart; // default "sample"
  /** EWMA only: the decay when it is not estimated (default 0.94, RiskMetrics daily). */
  lambda?: number;
  /** EWMA only: estimate lambda by maximum likelihood (default false). */
  estimateLambda?: boolean;
  /** Optimiser limits; the defaults suit every series tried. */
  maxIterations?: number;
  gradientTolerance?: number;
}

/** A spec with every default filled in (what the fit actually used). */
export interface ResolvedVolatilitySpec {
  readonly model: VolatilityModel;
  readonly dist: InnovationDist;
  readonly mean: MeanModel;
  readonly varianceStart: VarianceStart;
  readonly lambda: number;
  readonly estimateLambda: boolean;
  readonly maxIterations: number;
  readonly gradientTolerance: number;
}

export type ParamName = "mu" | "omega" | "alpha" | "gamma" | "beta" | "nu" | "lambda";

/**
 * Parameters in the units of the returns passed in. Every model reports omega/alpha/beta/gamma so a
 * consumer can run one recursion: EWMA has omega = 0, alpha = 1 - lambda, beta = lambda, gamma = 0;
 * GARCH has gamma = 0. `nu` is present only for Student-t, `lambda` only for EWMA.
 */
export interface VolatilityParams {
  readonly mu: number;
  readonly omega: number;
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  readonly nu?: number;
  readonly lambda?: number;
}

export type VolatilityWarningCode =
  | "POOR_SCALING" // returns look like percent, or are tiny: check units before pricing
  | "NOT_CONVERGED" // the optimiser stopped before the gradient test passed
  | "INTEGRATED" // alpha + beta (+ gamma/2) is ≈ 1: no mean reversion, long forecasts grow linearly
  | "PARAMETER_AT_BOUND" // a parameter sits at its constraint (e.g. alpha ≈ 0, nu at 2.05 or 500)
  | "SINGULAR_HESSIAN"; // standard errors could not be computed

export interface VolatilityWarning {
  readonly code: VolatilityWarningCode;
  /** What happened and how to fix it. */
  readonly message: string;
}

export interface VolatilityFit {
  readonly spec: ResolvedVolatilitySpec;
  readonly params: VolatilityParams;
  /** Names of the estimated parameters, in the order of `covariance`. */
  readonly estimated: readonly ParamName[];
  /** Robust (Bollerslev–Wooldridge sandwich H⁻¹ J H⁻¹) standard errors of the estimated parameters. */
  readonly stdErrors: Readonly<Partial<Record<ParamName, number>>>;
  /** Non-robust standard errors from the inverse of the observed-information (Hessian) matrix. */
  readonly stdErrorsHessian: Readonly<Partial<Record<ParamName, number>>>;
  readonly stdErrorType: "robust";
  /** Robust covariance of `estimated` (undefined when the Hessian is singular). */
  readonly covariance: readonly (readonly number[])[] | undefined;
  readonly logLikelihood: number;
  readonly aic: number;
  readonly bic: number;
  readonly n: number;
  readonly converged: boolean;
  readonly iterations: number;
  readonly warnings: readonly VolatilityWarning[];
  /** alpha + beta + gamma/2 (1 for EWMA). */
  readonly persistence: number;
  /** omega / (1 - persistence); undefined when persistence ≥ 1 (EWMA). */
  readonly unconditionalVariance: number | undefined;
  /** h_t, t = 0..n-1, in squared return units. Treat as read-only. */
  readonly conditionalVariance: Float64Array;
  /** (r_t - mu) / sqrt(h_t), t = 0..n-1. Treat as read-only. */
  readonly standardizedResiduals: Float64Array;
  readonly lastResidual: number;
  /** h_{n}: the variance of the next, not yet observed, return. */
  readonly nextVariance: number;
}
