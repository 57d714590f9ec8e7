// Historical simulation: the horizon loss distribution is the empirical distribution of
// overlapping `horizonSteps`-period log returns (no scaling rule), for long and short positions.
import { assertInput } from "../../errors.ts";
import { toFiniteSeries } from "../common/validate.ts";
import { lossOf, varEs, type VarEs } from "./measures.ts";

export interface HistoricalVarEsOptions {
  /** One-period log returns (oldest first). */
  returns: ArrayLike<number>;
  confidence: number;
  /**
   * Horizon in periods of `returns`; a fraction below 1 scales the one-period move by sqrt(h).
   * Or give horizonSeconds and periodSeconds instead.
   */
  horizonPeriods?: number;
  horizonSeconds?: number;
  periodSeconds?: number;
  /**
   * Optional stressed-window returns pooled with the current sample at a total weight of
   * `stressedWeight` (EMIR anti-procyclicality: ≥ 25% weight on stressed observations).
   */
  stressedReturns?: ArrayLike<number>;
  stressedWeight?: number;
}

export interface TwoSidedVarEs {
  readonly long: VarEs;
  readonly short: VarEs;
  /** Number of horizon scenarios in the (current) sample. */
  readonly scenarios: number;
  /** Whole periods summed per scenario (ceil of the horizon: in the protocol's favour). */
  readonly horizonSteps: number;
}

/** Overlapping k-period sums of `x`, scaled by `scale`. */
export function overlappingSums(x: Float64Array, k: number, scale = 1): Float64Array {
  const m = x.length - k + 1;
  const out = new Float64Array(Math.max(m, 0));
  let s = 0;
  for (let i = 0; i < k; i++) s += x[i];
  for (let i = 0; i < m; i++) {
    out[i] = s * scale;
    if (i + k < x.length) s += x[i + k] - x[i];
  }
  return out;
}

/** Minimum scenarios demanded by the historical methods. */
export const MIN_SCENARIOS = 50;

/** horizonPeriods, or horizonSeconds / periodSeconds; exactly one form must be given. */
export function resolveHorizonPeriods(o: { horizonPeriods?: number; horizonSeconds?: number; periodSeconds?: number }): number {
  if (o.horizonPeriods !== undefined) {
    assertInput(o.horizonSeconds === undefined, "give horizonPeriods or horizonSeconds, not both", "horizonSeconds", "MODEL_INPUT");
    return o.horizonPeriods;
  }
  assertInput(o.horizonSeconds !== undefined && Number.isFinite(o.horizonSeconds) && o.horizonSeconds > 0,
    `needs horizonPeriods, or horizonSeconds > 0 with periodSeconds; got ${o.horizonSeconds}`, "horizonSeconds", "MODEL_INPUT");
  assertInput(o.periodSeconds !== undefined && Number.isFinite(o.periodSeconds) && o.periodSeconds > 0,
    `must be a finite number > 0 (the sampling period of the returns), got ${o.periodSeconds}`, "periodSeconds", "MODEL_INPUT");
  return (o.horizonSeconds as number) / (o.periodSeconds as number);
}

export function horizonSteps(horizonPeriods: number): { steps: number; scale: number } {
  assertInput(Number.isFinite(horizonPeriods) && horizonPeriods > 0, `must be a finite number > 0, got ${horizonPeriods}`, "horizonPeriods", "MODEL_INPUT");
  if (horizonPeriods < 1) return { steps: 1, scale: Math.sqrt(horizonPeriods) };
  return { steps: Math.ceil(horizonPeriods - 1e-9), scale: 1 };
}

/**
 * Historical VaR/ES of long and short positions over a horizon.
 * @example
 * historicalVarEs({ returns: hourly, confidence: 0.99, horizonPeriods: 2 }).long.es
 * historicalVarEs({ returns: hourly, confidence: 0.99, horizonSeconds: 624, periodSeconds: 3600 }).short.var
 */
export function historicalVarEs(options: HistoricalVarEsOptions): TwoSidedVarEs {
  const { steps, scale } = horizonSteps(resolveHorizonPeriods(options));
  const x = toFiniteSeries(options.returns, "returns", steps + MIN_SCENARIOS - 1);
  const sums = overlappingSums(x, steps, scale);
  let pooled = sums;
  let weights: Float64Array | undefined;
  if (options.stressedReturns !== undefined) {
    const w = options.stressedWeight ?? 0.25;
    assertInput(w > 0 && w < 1, `must be in (0, 1), got ${w}`, "stressedWeight", "MODEL_INPUT");
    const stressed = overlappingSums(toFiniteSeries(options.stressedReturns, "stressedReturns", steps + 9), steps, scale);
    pooled = new Float64Array(sums.length + stressed.length);
    pooled.set(sums);
    pooled.set(stressed, sums.length);
    weights = new Float64Array(pooled.length);
    weights.fill((1 - w) / sums.length, 0, sums.length);
    weights.fill(w / stressed.length, sums.length);
  }
  const side = (s: "long" | "short"): VarEs => {
    const losses = new Float64Array(pooled.length);
    for (let i = 0; i < pooled.length; i++) losses[i] = lossOf(s, pooled[i]);
    return varEs(losses, options.confidence, weights);
  };
  return Object.freeze({ long: side("long"), short: side("short"), scenarios: sums.length, horizonSteps: steps });
}
