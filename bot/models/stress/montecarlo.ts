// Monte Carlo stress: seeded paths from a fitted GARCH-type model, with parametric innovations
// (the fit's own distribution: standardised Student-t or normal) or a filtered bootstrap of its
// standardised residuals. Reports the tail of the horizon move and of the maximum drawdown
// (long side: fall from a running peak) and run-up (short side: rise from a running trough).
import { assertInput } from "../../errors.ts";
import { assertSeed } from "../common/validate.ts";
import { simulatePaths, type ShockSampler } from "../volatility/simulate.ts";
import type { VolatilityFit } from "../volatility/spec.ts";
import { lossOf, varEs, type VarEs } from "../tail/measures.ts";

export interface StressOptions {
  fit: VolatilityFit;
  horizonPeriods: number;
  /** "parametric" draws from the fitted distribution; "bootstrap" resamples standardised residuals. */
  innovations?: "parametric" | "bootstrap";
  paths?: number; // default 10,000
  seed: number;
  /** Probabilities at which to report quantiles (default 0.001, 0.01, 0.05, 0.5, 0.95, 0.99, 0.999). */
  probabilities?: readonly number[];
  /** Confidence for the VaR/ES summaries (default 0.99). */
  confidence?: number;
}

export interface QuantileRow { readonly p: number; readonly value: number }

export interface StressResult {
  readonly paths: number;
  readonly steps: number;
  readonly innovations: "parametric" | "bootstrap";
  readonly seed: number;
  /** Quantiles of the horizon log return. */
  readonly horizonMove: readonly QuantileRow[];
  /** Quantiles of the max drawdown of the log price (≥ 0). */
  readonly maxDrawdown: readonly QuantileRow[];
  readonly maxRunUp: readonly QuantileRow[];
  /** VaR/ES of the horizon move for each side (fraction of position value). */
  readonly long: VarEs;
  readonly short: VarEs;
  /** VaR/ES of the worst intra-horizon loss (drawdown expressed as 1 - e^{-dd}). */
  readonly longDrawdown: VarEs;
  readonly shortDrawdown: VarEs;
}

function quantiles(x: Float64Array, ps: readonly number[]): QuantileRow[] {
  const s = Float64Array.from(x).sort();
  return ps.map((p) => {
    const pos = p * (s.length - 1);
    const lo = Math.floor(pos), hi = Math.ceil(pos);
    return Object.freeze({ p, value: s[lo] + (pos - lo) * (s[hi] - s[lo]) });
  });
}

/**
 * @example
 * const s = stressTest({ fit, horizonPeriods: 24, seed: 42 });
 * s.maxDrawdown.find((q) => q.p === 0.99)?.value
 */
export function stressTest(options: StressOptions): StressResult {
  const { fit, horizonPeriods: hp, seed } = options;
  assertInput(Number.isFinite(hp) && hp > 0, `must be a finite number > 0, got ${hp}`, "horizonPeriods", "MODEL_INPUT");
  assertSeed(seed);
  const paths = options.paths ?? 10_000;
  assertInput(Number.isInteger(paths) && paths >= 100, `must be an integer ≥ 100, got ${paths}`, "paths", "MODEL_INPUT");
  const innovations = options.innovations ?? "parametric";
  assertInput(innovations === "parametric" || innovations === "bootstrap", `must be "parametric" or "bootstrap", got ${String(innovations)}`, "innovations", "MODEL_INPUT");
  const probabilities = options.probabilities ?? [0.001, 0.01, 0.05, 0.5, 0.95, 0.99, 0.999];
  for (const p of probabilities) assertInput(p >= 0 && p <= 1, `must be in [0, 1], got ${p}`, "probabilities", "MODEL_INPUT");
  let sampler: ShockSampler;
  if (innovations === "bootstrap") {
    const z = fit.standardizedResiduals;
    sampler = (rng) => z[rng.int(z.length)];
  } else if (fit.params.nu !== undefined) {
    const nu = fit.params.nu;
    sampler = (rng) => rng.standardizedT(nu);
  } else {
    sampler = (rng) => rng.normal();
  }
  const steps = Math.max(1, Math.ceil(hp - 1e-9));
  const sim = simulatePaths({
    params: fit.params, firstVariance: fit.nextVariance, steps, paths, seed, sampler,
    lastStepFraction: hp < 1 ? hp : hp - (steps - 1), trackDrawdown: true,
  });
  const confidence = options.confidence ?? 0.99;
  const lossesOf = (side: "long" | "short", x: Float64Array) => Float64Array.from(x, (v) => lossOf(side, v));
  const dd = sim.maxDrawdown as Float64Array, ru = sim.maxRunUp as Float64Array;
  return Object.freeze({
    paths, steps, innovations, seed,
    horizonMove: Object.freeze(quantiles(sim.cumulative, probabilities)),
    maxDrawdown: Object.freeze(quantiles(dd, probabilities)),
    maxRunUp: Object.freeze(quantiles(ru, probabilities)),
    long: varEs(lossesOf("long", sim.cumulative), confidence),
    short: varEs(lossesOf("short", sim.cumulative), confidence),
    longDrawdown: varEs(Float64Array.from(dd, (d) => -Math.expm1(-d)), confidence),
    shortDrawdown: varEs(Float64Array.from(ru, (u) => Math.expm1(u)), confidence),
  });
}
