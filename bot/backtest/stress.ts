// A stress level from price history alone, for the backtest (the live keeper gets its snapshot
// from bot/signals). The level compares a fast EWMA volatility with the long-run volatility over
// the slow lookback: ratio < elevated -> calm, < stressed -> elevated, < critical -> stressed,
// otherwise critical. Pure: reads only the returns it is given.
import type { StressLevel } from "../rules/rule.ts";

export interface StressSettings {
  /** Half-life of the fast EWMA volatility, in data intervals. */
  fastHalfLifeSteps: number;
  /** Returns over which the long-run volatility (root mean square) is measured. */
  slowLookbackSteps: number;
  /** Ratio thresholds fast/slow volatility for elevated, stressed and critical. */
  elevated: number;
  stressed: number;
  critical: number;
}

export interface StressReading {
  level: StressLevel;
  ratio: number;
}

/** Stress level at the end of `returns` (only data up to now). */
export function assessStress(returns: Float64Array, s: StressSettings): StressReading {
  const n = returns.length;
  const slowStart = Math.max(0, n - s.slowLookbackSteps);
  let ss = 0;
  for (let i = slowStart; i < n; i++) ss += returns[i] * returns[i];
  const slow = ss / Math.max(1, n - slowStart);
  const lambda = Math.pow(0.5, 1 / s.fastHalfLifeSteps);
  // Fast EWMA over the last ~10 half-lives is exact to 2^-10 of its seed (the slow variance).
  const fastStart = Math.max(0, n - Math.ceil(10 * s.fastHalfLifeSteps));
  let v = slow;
  for (let i = fastStart; i < n; i++) v = lambda * v + (1 - lambda) * returns[i] * returns[i];
  const ratio = slow > 0 ? Math.sqrt(v / slow) : 1;
  const level: StressLevel = ratio >= s.critical ? "critical" : ratio >= s.stressed ? "stressed" : ratio >= s.elevated ? "elevated" : "calm";
  return { level, ratio };
}
