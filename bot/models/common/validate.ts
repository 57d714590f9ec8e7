// Input checks shared by every model: finite numbers, enough observations, a usable confidence.
import { RiskkeeperError, assertInput } from "../../errors.ts";

/**
 * Copies `values` into a Float64Array after checking every element is finite and there are at
 * least `minLength` of them. The error names the input and the first offending index.
 */
export function toFiniteSeries(values: ArrayLike<number>, input: string, minLength: number): Float64Array {
  if (values === null || values === undefined || typeof values.length !== "number") {
    throw new RiskkeeperError("MODEL_INPUT", "expected an array of numbers", { input });
  }
  if (values.length < minLength) {
    throw new RiskkeeperError("MODEL_INPUT", `needs at least ${minLength} observations, got ${values.length}`, {
      input, details: { n: values.length, minLength },
    });
  }
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RiskkeeperError("MODEL_INPUT", `element ${i} is ${String(v)}; NaN and ±Infinity are not allowed`, {
        input: `${input}[${i}]`,
      });
    }
    out[i] = v;
  }
  return out;
}

export function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** Population variance (divides by n). */
export function variance(x: ArrayLike<number>, m = mean(x)): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) { const d = x[i] - m; s += d * d; }
  return s / x.length;
}

/** Rejects a series whose spread is zero (or indistinguishable from rounding noise). */
export function assertNotFlat(x: Float64Array, input: string): void {
  const m = mean(x);
  const v = variance(x, m);
  if (!(v > 1e-28 * Math.max(1, m * m))) {
    throw new RiskkeeperError("MODEL_INPUT", "the series is flat (zero variance); volatility models are undefined for a constant series", {
      input, details: { mean: m, variance: v },
    });
  }
}

export function assertConfidence(confidence: number, input = "confidence"): void {
  assertInput(Number.isFinite(confidence) && confidence > 0.5 && confidence < 1, `must be in (0.5, 1), got ${confidence}`, input, "MODEL_INPUT");
}

export function assertPositiveFinite(value: number, input: string): void {
  assertInput(Number.isFinite(value) && value > 0, `must be a finite number > 0, got ${value}`, input, "MODEL_INPUT");
}

export function assertSeed(seed: number, input = "seed"): void {
  assertInput(Number.isInteger(seed), `must be an integer, got ${seed}`, input, "MODEL_INPUT");
}
