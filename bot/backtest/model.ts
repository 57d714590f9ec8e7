// The buffer model seen by the walk-forward engine: history of log returns up to t -> margin
// buffer (bps) for a long and a short position over the horizon, with ES and the predictive tail
// the Z2 test draws from. Two local models live here until bot/models exports its FHS:
//   "hs"        historical simulation on overlapping h-step log returns over the lookback;
//   "fhs-ewma"  EWMA-filtered HS: each h-step return is divided by the EWMA volatility known at
//               its start (times sqrt(h)); the standardised quantile is rescaled by today's EWMA
//               volatility (RiskMetrics filtering, Barone-Adesi/Hull-White style).
// Pure computation: the model reads only the array it is given.
import { RiskkeeperError } from "../errors.ts";
import { DEFAULT_FHS_SPEC, fhsVarEs, fitGarch, type VolatilityFit, type VolatilitySpec } from "../models/index.ts";

export interface BufferModelInput {
  /** Log returns of the data interval, oldest first, ending at "now". Nothing later exists. */
  returns: Float64Array;
  /** Horizon in data intervals (>= 1). */
  horizonSteps: number;
  /** Breach probability, 1 - confidence. */
  alpha: number;
  /** Number of most recent returns the model may use. */
  lookback: number;
  /** Data intervals per year, to annualise volatility. */
  stepsPerYear: number;
}

export interface BufferEstimate {
  /**
   * The one buffer for both sides: the 1 - alpha quantile of the pooled long and short losses,
   * so that a position of either side breaches with probability alpha on average (the pooled
   * coverage the backtest tests). Bps of price.
   */
  bufferBps: number;
  /** Expected pooled loss beyond `bufferBps`, bps of price. */
  esBps: number;
  /** Pooled loss/ES ratios beyond the buffer (mean 1), for the Z2 simulation. */
  tail: Float64Array;
  /** Loss of a long position not exceeded with probability 1 - alpha, in bps of price. */
  bufferBpsLong: number;
  bufferBpsShort: number;
  /** Expected loss beyond the buffer, in bps of price. */
  esBpsLong: number;
  esBpsShort: number;
  /** Annualised volatility forecast (1.0 = 100%). */
  volAnnual: number;
  /** Loss/ES ratios of the predictive tail beyond VaR (mean 1), for the Z2 simulation. */
  tailLong: Float64Array;
  tailShort: Float64Array;
}

export interface BufferModel {
  readonly name: string;
  /** Fewest returns the model needs before its first estimate. */
  minHistory(input: Omit<BufferModelInput, "returns">): number;
  estimate(input: BufferModelInput): BufferEstimate;
}

const TAIL_POINTS = 32;

/** k-th smallest (0-based) of a[lo..hi] in place (Hoare quickselect with median-of-three). */
function quickselect(a: Float64Array, k: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as pivot
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { swap(a, i, j); i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]; a[i] = a[j]; a[j] = t;
}

/**
 * Upper-tail VaR and ES of `losses` (destroys the order of the array): VaR is the (k+1)-th
 * largest loss with k = floor(alpha n) (so at most alpha n losses exceed it), ES the mean of the
 * k+1 largest. `toBps` maps a loss in model units to bps of price; ES and the tail are in bps.
 */
export function tailOf(losses: Float64Array, alpha: number, toBps: (x: number) => number): { varBps: number; esBps: number; tail: Float64Array } {
  const n = losses.length;
  const k = Math.floor(alpha * n);
  const idx = n - 1 - k;
  quickselect(losses, idx);
  const top = losses.slice(idx).sort();
  const bps = top.map(toBps);
  let sum = 0;
  for (let i = 0; i < bps.length; i++) sum += bps[i];
  const esBps = sum / bps.length;
  const varBps = bps[0];
  const m = Math.min(TAIL_POINTS, bps.length);
  const tail = new Float64Array(m);
  for (let i = 0; i < m; i++) tail[i] = bps[Math.floor(((i + 0.5) * bps.length) / m)] / esBps;
  return { varBps, esBps, tail };
}

const longBps = (logLoss: number): number => -Math.expm1(-logLoss) * 1e4; // 1 - exp(r), r = -logLoss
const shortBps = (logGain: number): number => Math.expm1(logGain) * 1e4;
const identity = (x: number): number => x;

/** Per-side and pooled VaR/ES from scenario losses in bps: [0, m) long, [m, 2m) short. */
function estimateFromLosses(losses: Float64Array, m: number, alpha: number, volAnnual: number): BufferEstimate {
  const L = tailOf(losses.slice(0, m), alpha, identity);
  const S = tailOf(losses.slice(m), alpha, identity);
  const P = tailOf(losses, alpha, identity);
  return {
    bufferBps: P.varBps, esBps: P.esBps, tail: P.tail,
    bufferBpsLong: L.varBps, bufferBpsShort: S.varBps, esBpsLong: L.esBps, esBpsShort: S.esBps,
    volAnnual, tailLong: L.tail, tailShort: S.tail,
  };
}

function checkInput(input: BufferModelInput, need: number, model: string): void {
  if (input.returns.length < need) {
    throw new RiskkeeperError("MODEL_INPUT", `${model} needs ${need} returns, got ${input.returns.length}`, { input: "returns" });
  }
}

/** Plain historical simulation on overlapping h-step log returns over the lookback. */
export function historicalSimulationModel(): BufferModel {
  return {
    name: "hs",
    minHistory: (i) => i.lookback,
    estimate(input) {
      checkInput(input, input.lookback, "hs");
      const { returns, horizonSteps: h, lookback, alpha } = input;
      const start = returns.length - lookback;
      const m = lookback - h + 1;
      const losses = new Float64Array(2 * m); // [0, m) long, [m, 2m) short, in bps
      let s = 0;
      let s2 = 0;
      for (let i = start; i < start + h; i++) s += returns[i];
      for (let j = 0; j < m; j++) {
        if (j > 0) s += returns[start + j + h - 1] - returns[start + j - 1];
        losses[j] = longBps(-s);
        losses[m + j] = shortBps(s);
      }
      for (let i = start; i < returns.length; i++) s2 += returns[i] * returns[i];
      return estimateFromLosses(losses, m, alpha, Math.sqrt((s2 / lookback) * input.stepsPerYear));
    },
  };
}

export interface FhsEwmaOptions {
  /** EWMA decay per data interval (RiskMetrics: 0.94 daily; default here 0.94). */
  lambda: number;
  /** Returns before the lookback used to warm the EWMA variance up (as many as exist, at most this). */
  burnIn?: number;
}

/** EWMA-filtered historical simulation on overlapping h-step returns. */
export function fhsEwmaModel(options: FhsEwmaOptions): BufferModel {
  const { lambda } = options;
  if (!(lambda > 0 && lambda < 1)) throw new RiskkeeperError("POLICY_INVALID", `lambda must be in (0, 1), got ${lambda}`, { input: "model.lambda" });
  const burnIn = options.burnIn ?? 500;
  return {
    name: "fhs-ewma",
    minHistory: (i) => i.lookback,
    estimate(input) {
      checkInput(input, input.lookback, "fhs-ewma");
      const { returns, horizonSteps: h, lookback, alpha } = input;
      const n = returns.length;
      const start = n - lookback;
      const warm = Math.max(0, start - burnIn);
      // Seed the variance with the mean square of the warm-up (or of the window when none).
      const seedEnd = start > warm ? start : Math.min(n, start + 100);
      let v = 0;
      for (let i = warm; i < seedEnd; i++) v += returns[i] * returns[i];
      v = v / Math.max(1, seedEnd - warm);
      if (!(v > 0)) v = 1e-8;
      for (let i = warm; i < start; i++) v = lambda * v + (1 - lambda) * returns[i] * returns[i];
      // sigma[j]: volatility known before returns[start + j].
      const sigma = new Float64Array(lookback + 1);
      for (let j = 0; j < lookback; j++) {
        sigma[j] = Math.sqrt(Math.max(v, 1e-16));
        const r = returns[start + j];
        v = lambda * v + (1 - lambda) * r * r;
      }
      sigma[lookback] = Math.sqrt(Math.max(v, 1e-16));
      const m = lookback - h + 1;
      const losses = new Float64Array(2 * m); // [0, m) long, [m, 2m) short, in bps
      // Standardised h-step move, rescaled by today's volatility: z_j * sigma_T * sqrt(h).
      let s = 0;
      for (let i = start; i < start + h; i++) s += returns[i];
      for (let j = 0; j < m; j++) {
        if (j > 0) s += returns[start + j + h - 1] - returns[start + j - 1];
        const x = (s * sigma[lookback]) / sigma[j];
        losses[j] = longBps(-x);
        losses[m + j] = shortBps(x);
      }
      return estimateFromLosses(losses, m, alpha, sigma[lookback] * Math.sqrt(input.stepsPerYear));
    },
  };
}

export interface FhsGarchOptions {
  /** Volatility spec for bot/models' fitGarch (default GARCH(1,1) with Student-t innovations). */
  spec?: VolatilitySpec;
  /** Bootstrap paths per estimate (bot/models default 10,000; 2,000 here for backtest speed). */
  paths?: number;
  /** Re-estimate the GARCH parameters every this many returns; in between, the last parameters
   * filter the current window (variance recursion only). */
  refitEverySteps: number;
  seed?: number;
}

/**
 * bot/models' filtered historical simulation (GARCH fit, standardised residuals bootstrapped
 * through the variance recursion over the horizon) behind the BufferModel interface. The models
 * package reports VaR/ES per side only, so the one buffer is the larger side's VaR (at least the
 * pooled quantile), and the Z2 tail is that side's ES ratio alone.
 */
export function fhsGarchModel(options: FhsGarchOptions): BufferModel {
  const spec = options.spec ?? DEFAULT_FHS_SPEC;
  const paths = options.paths ?? 2000;
  let cached: { fit: VolatilityFit; at: number } | undefined;
  return {
    name: "fhs-garch",
    minHistory: (i) => i.lookback,
    estimate(input) {
      checkInput(input, input.lookback, "fhs-garch");
      const n = input.returns.length;
      const window = input.returns.subarray(n - input.lookback);
      if (!cached || n < cached.at || n - cached.at >= options.refitEverySteps) cached = { fit: fitGarch(window, spec), at: n };
      const fit = n === cached.at ? cached.fit : refilterGarch(cached.fit, window);
      const r = fhsVarEs({ fit, confidence: 1 - input.alpha, horizonPeriods: input.horizonSteps, paths, seed: options.seed ?? 1 });
      const L = { v: r.long.var * 1e4, es: r.long.es * 1e4 };
      const S = { v: r.short.var * 1e4, es: r.short.es * 1e4 };
      const worst = L.v >= S.v ? L : S;
      return {
        bufferBps: worst.v, esBps: worst.es, tail: Float64Array.of(1),
        bufferBpsLong: L.v, bufferBpsShort: S.v, esBpsLong: L.es, esBpsShort: S.es,
        volAnnual: Math.sqrt(fit.nextVariance * input.stepsPerYear), tailLong: Float64Array.of(1), tailShort: Float64Array.of(1),
      };
    },
  };
}

/** The same parameters over a new window: residuals and next variance from the fit's recursion. */
export function refilterGarch(fit: VolatilityFit, window: Float64Array): VolatilityFit {
  const { mu, omega, alpha, beta, gamma } = fit.params;
  const n = window.length;
  let b = 0;
  for (let i = 0; i < n; i++) b += (window[i] - mu) ** 2;
  b /= n;
  // "sample" start, as fitGarch's default: h_0 = omega + (alpha + gamma/2 + beta) b.
  let h = omega + (alpha + gamma / 2 + beta) * b;
  const z = new Float64Array(n);
  const hv = new Float64Array(n);
  let e = 0;
  for (let i = 0; i < n; i++) {
    e = window[i] - mu;
    hv[i] = h;
    z[i] = e / Math.sqrt(h);
    h = omega + (alpha + (e < 0 ? gamma : 0)) * e * e + beta * h;
  }
  return { ...fit, n, conditionalVariance: hv, standardizedResiduals: z, lastResidual: e, nextVariance: h };
}

/** Model names a policy may use, and how to build each from its settings. */
export const MODEL_NAMES = ["hs", "fhs-ewma", "fhs-garch"] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface ModelSpec {
  name: ModelName;
  /** fhs-ewma only. */
  lambda?: number;
  /** fhs-garch only: parameter re-estimation interval in data intervals, and bootstrap paths. */
  refitEverySteps?: number;
  paths?: number;
}

export function createBufferModel(spec: ModelSpec): BufferModel {
  switch (spec.name) {
    case "hs":
      return historicalSimulationModel();
    case "fhs-ewma":
      return fhsEwmaModel({ lambda: spec.lambda ?? 0.94 });
    case "fhs-garch":
      return fhsGarchModel({ refitEverySteps: spec.refitEverySteps ?? 720, paths: spec.paths ?? 2000 });
    default:
      throw new RiskkeeperError("POLICY_INVALID", `unknown model "${String((spec as { name: unknown }).name)}" (known: ${MODEL_NAMES.join(", ")})`, { input: "model.name" });
  }
}
