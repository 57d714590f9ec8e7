// Realised volatility estimators over a window of rows [from, to] (inclusive indices), annualised
// with `periodsPerYear` (crypto trades every day: 365 x 86400 / interval). Pure functions of arrays.
import { RiskkeeperError } from "../errors.ts";

export const SECONDS_PER_YEAR = 365 * 86400;

/** Periods per year for a bar interval in seconds (365-day year, as DVOL annualises). */
export function periodsPerYear(intervalSeconds: number): number {
  return SECONDS_PER_YEAR / intervalSeconds;
}

function checkRange(n: number, from: number, to: number, min: number, name: string): void {
  if (!(from >= 0 && to < n && to - from + 1 >= min)) {
    throw new RiskkeeperError("MODEL_INPUT", `needs at least ${min} rows in [${from}, ${to}] of ${n}`, { input: name });
  }
}

/**
 * Close-to-close volatility: sample standard deviation (n - 1) of the log returns ending in rows
 * from+1..to, annualised.
 */
export function closeToCloseVol(close: Float64Array, from: number, to: number, ppy: number): number {
  checkRange(close.length, from, to, 3, "closeToCloseVol");
  const n = to - from;
  let sum = 0, sumSq = 0;
  for (let i = from + 1; i <= to; i++) {
    const r = Math.log(close[i] / close[i - 1]);
    sum += r; sumSq += r * r;
  }
  const mean = sum / n;
  return Math.sqrt((Math.max(0, sumSq - n * mean * mean) / (n - 1)) * ppy);
}

/** Parkinson (1980) high-low volatility: sqrt(mean(ln(H/L)^2) / (4 ln 2)), annualised. */
export function parkinsonVol(high: Float64Array, low: Float64Array, from: number, to: number, ppy: number): number {
  checkRange(high.length, from, to, 1, "parkinsonVol");
  let s = 0;
  for (let i = from; i <= to; i++) {
    const hl = Math.log(high[i] / low[i]);
    s += hl * hl;
  }
  return Math.sqrt((s / (to - from + 1) / (4 * Math.LN2)) * ppy);
}

/** Garman-Klass (1980): mean(0.5 ln(H/L)^2 - (2 ln 2 - 1) ln(C/O)^2), annualised. */
export function garmanKlassVol(open: Float64Array, high: Float64Array, low: Float64Array, close: Float64Array, from: number, to: number, ppy: number): number {
  checkRange(open.length, from, to, 1, "garmanKlassVol");
  let s = 0;
  const k = 2 * Math.LN2 - 1;
  for (let i = from; i <= to; i++) {
    const hl = Math.log(high[i] / low[i]);
    const co = Math.log(close[i] / open[i]);
    s += 0.5 * hl * hl - k * co * co;
  }
  return Math.sqrt((Math.max(0, s) / (to - from + 1)) * ppy);
}

/**
 * RiskMetrics EWMA volatility after row `to`: sigma2_i = lambda sigma2_(i-1) + (1 - lambda) r_i^2, zero
 * mean, seeded with the mean squared return of the first `seedSteps` returns of [from, to].
 * Annualised.
 */
export function ewmaVol(close: Float64Array, from: number, to: number, ppy: number, lambda = 0.94, seedSteps = 30): number {
  checkRange(close.length, from, to, 2, "ewmaVol");
  if (!(lambda > 0 && lambda < 1)) throw new RiskkeeperError("INPUT_INVALID", `lambda must be in (0, 1), got ${lambda}`, { input: "lambda" });
  const seedEnd = Math.min(to, from + seedSteps);
  let v = 0;
  for (let i = from + 1; i <= seedEnd; i++) {
    const r = Math.log(close[i] / close[i - 1]);
    v += r * r;
  }
  v /= seedEnd - from;
  for (let i = seedEnd + 1; i <= to; i++) {
    const r = Math.log(close[i] / close[i - 1]);
    v = lambda * v + (1 - lambda) * r * r;
  }
  return Math.sqrt(v * ppy);
}
