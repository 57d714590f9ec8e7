// Seeded simulation of the volatility recursion: synthetic series for tests, and the path engine
// shared by filtered historical simulation (tail/) and Monte Carlo stress (stress/).
import { assertInput } from "../../errors.ts";
import { createRng, type Rng } from "../common/prng.ts";
import type { VolatilityParams } from "./spec.ts";

export interface SimulateSeriesOptions {
  params: VolatilityParams;
  dist: "normal" | "t";
  n: number;
  seed: number;
  /** Draws discarded before the returned series (default 500). */
  burn?: number;
}

/** A synthetic return series from the GARCH/GJR/EWMA recursion with the given parameters. */
export function simulateGarchSeries(options: SimulateSeriesOptions): Float64Array {
  const { params: p, dist, n, seed } = options;
  const burn = options.burn ?? 500;
  assertInput(Number.isInteger(n) && n > 0, `must be a positive integer, got ${n}`, "n", "MODEL_INPUT");
  assertInput(Number.isInteger(seed), `must be an integer, got ${seed}`, "seed", "MODEL_INPUT");
  const pers = p.alpha + p.beta + p.gamma / 2;
  assertInput(pers < 1 && p.omega > 0, "needs omega > 0 and alpha + beta + gamma/2 < 1 to simulate a stationary series", "params", "MODEL_INPUT");
  const rng = createRng(seed);
  const nu = p.nu ?? 0;
  const draw = dist === "t" ? () => rng.standardizedT(nu) : () => rng.normal();
  let h = p.omega / (1 - pers);
  const out = new Float64Array(n);
  for (let t = 0; t < n + burn; t++) {
    const e = Math.sqrt(h) * draw();
    if (t >= burn) out[t - burn] = p.mu + e;
    h = p.omega + (p.alpha + (e < 0 ? p.gamma : 0)) * e * e + p.beta * h;
  }
  return out;
}

/** What feeds each step's shock: standardised draws from a sampler (parametric or bootstrap). */
export type ShockSampler = (rng: Rng) => number;

export interface PathSimulationOptions {
  params: VolatilityParams;
  /** h_{T+1}: the variance of the first simulated step. */
  firstVariance: number;
  steps: number;
  paths: number;
  seed: number;
  sampler: ShockSampler;
  /** Variance fraction of the last step, in (0, 1] (a horizon that is not a whole number of periods; default 1). */
  lastStepFraction?: number;
  /** Also track each path's maximum drawdown of the log price (default false). */
  trackDrawdown?: boolean;
}

export interface PathSimulationResult {
  /** Cumulative log return of each path over all `steps`. */
  cumulative: Float64Array;
  /** Largest fall from a running peak of the log price, ≥ 0 (only when trackDrawdown). */
  maxDrawdown: Float64Array | undefined;
  /** Largest rise from a running trough (the short side's drawdown), ≥ 0 (only when trackDrawdown). */
  maxRunUp: Float64Array | undefined;
}

/** Runs `paths` seeded paths of `steps` steps through the variance recursion. */
export function simulatePaths(options: PathSimulationOptions): PathSimulationResult {
  const { params: p, firstVariance, steps, paths, seed, sampler } = options;
  const track = options.trackDrawdown === true;
  const rng = createRng(seed);
  const cumulative = new Float64Array(paths);
  const maxDrawdown = track ? new Float64Array(paths) : undefined;
  const maxRunUp = track ? new Float64Array(paths) : undefined;
  const { mu, omega, alpha, beta, gamma } = p;
  const lastFrac = options.lastStepFraction ?? 1;
  assertInput(lastFrac > 0 && lastFrac <= 1, `must be in (0, 1], got ${lastFrac}`, "lastStepFraction", "MODEL_INPUT");
  for (let i = 0; i < paths; i++) {
    let h = firstVariance;
    let cum = 0, peak = 0, trough = 0, dd = 0, ru = 0;
    for (let k = 0; k < steps; k++) {
      const frac = k === steps - 1 ? lastFrac : 1;
      const e = Math.sqrt(h * frac) * sampler(rng);
      cum += mu * frac + e;
      if (track) {
        if (cum > peak) peak = cum; else if (peak - cum > dd) dd = peak - cum;
        if (cum < trough) trough = cum; else if (cum - trough > ru) ru = cum - trough;
      }
      h = omega + (alpha + (e < 0 ? gamma : 0)) * e * e + beta * h;
    }
    cumulative[i] = cum;
    if (track) { (maxDrawdown as Float64Array)[i] = dd; (maxRunUp as Float64Array)[i] = ru; }
  }
  return { cumulative, maxDrawdown, maxRunUp };
}
