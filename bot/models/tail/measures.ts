// Loss measures on a (possibly weighted) sample: Value-at-Risk and Expected Shortfall.
// Losses are fractions of position value, positive = loss. With tail mass a = 1 - confidence,
// sorted from the worst loss down, VaR is the first loss at which the accumulated weight reaches a,
// and ES = (Σ_{i<j} w_i L_i + (a - Σ_{i<j} w_i)·L_j) / a (Acerbi–Tasche), so ES ≥ VaR always.
import { RiskkeeperError } from "../../errors.ts";
import { assertConfidence } from "../common/validate.ts";

export interface VarEs {
  /** Value-at-Risk as a fraction of position value (positive = loss). */
  readonly var: number;
  /** Expected Shortfall as a fraction of position value (≥ var). */
  readonly es: number;
}

export type Side = "long" | "short";

/** Loss of a position of value 1 for a log return R: long 1 - e^R, short e^R - 1. */
export function lossOf(side: Side, logReturn: number): number {
  return (side === "long" ? -Math.expm1(logReturn) : Math.expm1(logReturn)) + 0; // + 0 turns -0 into 0
}

/** VaR and ES of `losses` with optional non-negative `weights` (normalised here). */
export function varEs(losses: Float64Array, confidence: number, weights?: Float64Array): VarEs {
  assertConfidence(confidence);
  const n = losses.length;
  if (n === 0) throw new RiskkeeperError("MODEL_INPUT", "no losses to measure", { input: "losses" });
  const tail = 1 - confidence;
  if (!weights) {
    // Equal weights: a native numeric sort, then the same walk from the worst loss down.
    const sorted = Float64Array.from(losses).sort();
    let acc = 0, sum = 0;
    const w = 1 / n;
    for (let r = n - 1; r >= 0; r--) {
      const L = sorted[r];
      if (acc + w >= tail - 1e-12) return Object.freeze({ var: L, es: (sum + (tail - acc) * L) / tail });
      acc += w;
      sum += w * L;
    }
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => losses[b] - losses[a]);
  let total = 0;
  if (weights) for (let i = 0; i < n; i++) total += weights[i]; else total = n;
  let acc = 0, sum = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r];
    const w = (weights ? weights[i] : 1) / total;
    const L = losses[i];
    if (acc + w >= tail - 1e-12) {
      sum += (tail - acc) * L;
      return Object.freeze({ var: L, es: sum / tail });
    }
    acc += w;
    sum += w * L;
  }
  const worst = losses[order[n - 1]];
  return Object.freeze({ var: worst, es: sum / Math.max(acc, 1e-300) });
}
