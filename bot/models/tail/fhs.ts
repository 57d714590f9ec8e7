// Filtered historical simulation (Barone-Adesi et al.): fit a GARCH-type model, take its
// standardised residuals z_t, and rescale them by the forecast variance. One period (or less):
// the loss distribution is exactly {mu + sqrt(h_{T+1}·f)·z_t}. Longer horizons: seeded paths that
// bootstrap residuals through the fitted variance recursion (volatility clustering inside the
// horizon, not a sqrt-of-time rule); a fractional last period gets its fraction of the variance.
import { assertInput } from "../../errors.ts";
import { assertSeed } from "../common/validate.ts";
import { fitGarch } from "../volatility/fit.ts";
import { simulatePaths } from "../volatility/simulate.ts";
import type { VolatilityFit, VolatilitySpec } from "../volatility/spec.ts";
import { overlappingSums, resolveHorizonPeriods, type TwoSidedVarEs } from "./historical.ts";
import { lossOf, varEs, type VarEs } from "./measures.ts";

export interface FhsVarEsOptions {
  /** One-period log returns; fitted with `spec` unless `fit` is given. */
  returns?: ArrayLike<number>;
  /** A fit to reuse (its residuals and forecast are used; `returns` is then ignored). */
  fit?: VolatilityFit;
  /** Default { model: "garch", dist: "t" }. */
  spec?: VolatilitySpec;
  confidence: number;
  /** Horizon in periods of the returns, or horizonSeconds with periodSeconds. */
  horizonPeriods?: number;
  horizonSeconds?: number;
  periodSeconds?: number;
  /** Simulated paths for multi-period horizons (default 10,000). */
  paths?: number;
  seed?: number;
  /** Stressed-window raw returns pooled at `stressedWeight` (EMIR weighting), as in historicalVarEs. */
  stressedReturns?: ArrayLike<number>;
  stressedWeight?: number;
}

export interface FhsResult extends TwoSidedVarEs {
  readonly method: "one-period-exact" | "bootstrap-paths";
  readonly fit: VolatilityFit;
  readonly seed: number;
  readonly paths: number;
}

export const DEFAULT_FHS_SPEC: VolatilitySpec = Object.freeze({ model: "garch", dist: "t" });

/**
 * FHS VaR/ES of long and short positions.
 * @example
 * fhsVarEs({ returns: hourly, confidence: 0.99, horizonPeriods: 6, seed: 1 }).long.es
 */
export function fhsVarEs(options: FhsVarEsOptions): FhsResult {
  const hp = resolveHorizonPeriods(options);
  assertInput(Number.isFinite(hp) && hp > 0, `must be a finite number > 0, got ${hp}`, "horizonPeriods", "MODEL_INPUT");
  const seed = options.seed ?? 1;
  assertSeed(seed);
  const paths = options.paths ?? 10_000;
  assertInput(Number.isInteger(paths) && paths >= 100, `must be an integer ≥ 100, got ${paths}`, "paths", "MODEL_INPUT");
  assertInput(options.fit !== undefined || options.returns !== undefined, "give either returns or a fit", "returns", "MODEL_INPUT");
  const fit = options.fit ?? fitGarch(options.returns as ArrayLike<number>, options.spec ?? DEFAULT_FHS_SPEC);
  const z = fit.standardizedResiduals;
  const { mu } = fit.params;
  let moves: Float64Array;
  let method: FhsResult["method"];
  let steps: number;
  if (hp <= 1) {
    method = "one-period-exact";
    steps = 1;
    const sd = Math.sqrt(fit.nextVariance * hp);
    moves = new Float64Array(z.length);
    for (let i = 0; i < z.length; i++) moves[i] = mu * hp + sd * z[i];
  } else {
    method = "bootstrap-paths";
    steps = Math.ceil(hp - 1e-9);
    const n = z.length;
    const sim = simulatePaths({
      params: fit.params, firstVariance: fit.nextVariance, steps, paths, seed,
      lastStepFraction: hp - (steps - 1), sampler: (rng) => z[rng.int(n)],
    });
    moves = sim.cumulative;
  }
  let weights: Float64Array | undefined;
  if (options.stressedReturns !== undefined) {
    const w = options.stressedWeight ?? 0.25;
    assertInput(w > 0 && w < 1, `must be in (0, 1), got ${w}`, "stressedWeight", "MODEL_INPUT");
    const stressedRaw = Float64Array.from(options.stressedReturns as ArrayLike<number>);
    const stressed = overlappingSums(stressedRaw, steps, hp < 1 ? Math.sqrt(hp) : 1);
    assertInput(stressed.length >= 10 && stressed.every(Number.isFinite), "needs ≥ 10 finite horizon scenarios", "stressedReturns", "MODEL_INPUT");
    const pooled = new Float64Array(moves.length + stressed.length);
    pooled.set(moves);
    pooled.set(stressed, moves.length);
    weights = new Float64Array(pooled.length);
    weights.fill((1 - w) / moves.length, 0, moves.length);
    weights.fill(w / stressed.length, moves.length);
    moves = pooled;
  }
  const side = (s: "long" | "short"): VarEs => {
    const losses = new Float64Array(moves.length);
    for (let i = 0; i < moves.length; i++) losses[i] = lossOf(s, moves[i]);
    return varEs(losses, options.confidence, weights);
  };
  return Object.freeze({
    long: side("long"), short: side("short"), scenarios: method === "bootstrap-paths" ? paths : z.length,
    horizonSteps: steps, method, fit, seed, paths: method === "bootstrap-paths" ? paths : 0,
  });
}
