// Coverage statistics for a VaR/ES backtest on a breach sequence:
//   - Kupiec proportion-of-failures (POF) likelihood ratio, chi-square(1) p-value, and the exact
//     two-sided binomial p-value used when the chi-square approximation is poor (n*a < 5 or n*(1-a) < 5);
//   - Christoffersen independence (first-order Markov, chi-square(1)) and conditional coverage
//     (POF + independence, chi-square(2));
//   - Basel traffic light per rolling window (250 observations at 99%: green 0-4, yellow 5-9,
//     red 10+); for any confidence the zones come from the binomial cumulative probability of the
//     breach count: green while P(X <= k) < 95%, yellow while < 99.99%, red beyond;
//   - Acerbi-Szekely Z2 for expected shortfall with a seeded simulated p-value.
// Pure: numbers in, numbers out.
import { RiskkeeperError } from "../errors.ts";
import { binomialCdf, binomialTwoSidedPValue, chiSquareSf, mulberry32, xlogy } from "./stats.ts";

export interface KupiecResult {
  observations: number;
  breaches: number;
  expectedRate: number;
  breachRate: number;
  lr: number;
  /** p-value actually reported: exact binomial when the chi-square approximation is poor. */
  pValue: number;
  pValueChiSquare: number;
  pValueExact: number;
  method: "chi-square" | "exact-binomial";
}

function assertRate(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new RiskkeeperError("INPUT_INVALID", `breach probability must be in (0, 1), got ${alpha}`, { input: "alpha" });
}

/**
 * Kupiec POF: LR = -2 ln[(1-a)^(n-x) a^x] + 2 ln[(1-x/n)^(n-x) (x/n)^x] ~ chi-square(1).
 * `alpha` is the expected breach probability (1 - confidence).
 */
export function kupiecPof(observations: number, breaches: number, alpha: number): KupiecResult {
  assertRate(alpha);
  const n = observations;
  const x = breaches;
  if (!(Number.isInteger(n) && Number.isInteger(x) && n > 0 && x >= 0 && x <= n)) {
    throw new RiskkeeperError("INPUT_INVALID", `need integers 0 <= breaches <= observations, observations > 0 (got ${x}/${n})`, { input: "breaches" });
  }
  const phat = x / n;
  const lnL0 = xlogy(n - x, 1 - alpha) + xlogy(x, alpha);
  const lnL1 = xlogy(n - x, 1 - phat) + xlogy(x, phat);
  const lr = Math.max(0, -2 * (lnL0 - lnL1));
  const pChi = chiSquareSf(lr, 1);
  const poor = n * alpha < 5 || n * (1 - alpha) < 5;
  const pExact = binomialTwoSidedPValue(x, n, alpha);
  return {
    observations: n,
    breaches: x,
    expectedRate: alpha,
    breachRate: phat,
    lr,
    pValue: poor ? pExact : pChi,
    pValueChiSquare: pChi,
    pValueExact: pExact,
    method: poor ? "exact-binomial" : "chi-square",
  };
}

export interface TransitionCounts {
  n00: number;
  n01: number;
  n10: number;
  n11: number;
}

/** First-order transition counts of a 0/1 breach sequence. Several sequences add up (no transition across them). */
export function transitionCounts(sequences: readonly ArrayLike<number>[]): TransitionCounts {
  const c = { n00: 0, n01: 0, n10: 0, n11: 0 };
  for (const s of sequences) {
    for (let i = 1; i < s.length; i++) {
      const a = s[i - 1] ? 1 : 0;
      const b = s[i] ? 1 : 0;
      if (a === 0) { if (b === 0) c.n00++; else c.n01++; } else if (b === 0) c.n10++; else c.n11++;
    }
  }
  return c;
}

export interface ChristoffersenResult extends TransitionCounts {
  pi01: number;
  pi11: number;
  lrInd: number;
  pValueInd: number;
  lrCc: number;
  pValueCc: number;
  /** Conditional-coverage p-value (the headline "christoffersen.pValue"). */
  pValue: number;
}

/**
 * Christoffersen: LR_ind = -2 ln[(1-p)^(n00+n10) p^(n01+n11)]
 *   + 2 ln[(1-p01)^n00 p01^n01 (1-p11)^n10 p11^n11] ~ chi-square(1),
 * LR_cc = LR_pof + LR_ind ~ chi-square(2), with LR_pof from Kupiec on the same observations.
 */
export function christoffersen(counts: TransitionCounts, kupiecLr: number): ChristoffersenResult {
  const { n00, n01, n10, n11 } = counts;
  const pi01 = n00 + n01 > 0 ? n01 / (n00 + n01) : 0;
  const pi11 = n10 + n11 > 0 ? n11 / (n10 + n11) : 0;
  const total = n00 + n01 + n10 + n11;
  const pi = total > 0 ? (n01 + n11) / total : 0;
  const lnL0 = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi);
  const lnL1 = xlogy(n00, 1 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1 - pi11) + xlogy(n11, pi11);
  const lrInd = Math.max(0, -2 * (lnL0 - lnL1));
  const lrCc = kupiecLr + lrInd;
  const pValueCc = chiSquareSf(lrCc, 2);
  return { ...counts, pi01, pi11, lrInd, pValueInd: chiSquareSf(lrInd, 1), lrCc, pValueCc, pValue: pValueCc };
}

export type Zone = "green" | "yellow" | "red";

export interface ZoneThresholds {
  /** Largest breach count still green / still yellow. */
  greenMax: number;
  yellowMax: number;
}

/** Zone limits for `window` observations at breach probability `alpha` (Basel cumulative 95% / 99.99%). */
export function trafficLightThresholds(window: number, alpha: number): ZoneThresholds {
  assertRate(alpha);
  let greenMax = -1;
  let yellowMax = -1;
  for (let k = 0; k <= window; k++) {
    const cdf = binomialCdf(k, window, alpha);
    if (cdf < 0.95) greenMax = k;
    if (cdf < 0.9999) yellowMax = k;
    else break;
  }
  return { greenMax, yellowMax };
}

export function zoneOf(breaches: number, t: ZoneThresholds): Zone {
  return breaches <= t.greenMax ? "green" : breaches <= t.yellowMax ? "yellow" : "red";
}

export interface TrafficLightResult {
  window: number;
  thresholds: ZoneThresholds;
  /** Number of rolling windows (step 1 observation) in each zone, over all sequences. */
  windows: { green: number; yellow: number; red: number };
  /** Worst zone any rolling window reached, and the most breaches in one window. */
  worst: Zone;
  maxBreaches: number;
  /** Zone of the last full window of each sequence (the regulatory "current" zone), worst of them. */
  last: Zone;
  /** Zone of the whole sample: breach count against thresholds for all observations. */
  overall: Zone;
}

const ZONE_RANK: Record<Zone, number> = { green: 0, yellow: 1, red: 2 };
const worse = (a: Zone, b: Zone): Zone => (ZONE_RANK[a] >= ZONE_RANK[b] ? a : b);

/** Traffic light on rolling windows of `window` observations for each breach sequence. */
export function trafficLight(sequences: readonly ArrayLike<number>[], alpha: number, window = 250): TrafficLightResult {
  const thresholds = trafficLightThresholds(window, alpha);
  const counts = { green: 0, yellow: 0, red: 0 };
  let worst: Zone = "green";
  let last: Zone = "green";
  let maxBreaches = 0;
  let n = 0;
  let x = 0;
  for (const s of sequences) {
    n += s.length;
    let inWindow = 0;
    for (let i = 0; i < s.length; i++) {
      if (s[i]) { inWindow++; x++; }
      if (i >= window && s[i - window]) inWindow--;
      if (i >= window - 1) {
        const z = zoneOf(inWindow, thresholds);
        counts[z]++;
        worst = worse(worst, z);
        if (inWindow > maxBreaches) maxBreaches = inWindow;
        if (i === s.length - 1) last = worse(last, z);
      }
    }
  }
  const overall = n > 0 ? zoneOf(x, trafficLightThresholds(n, alpha)) : "green";
  return { window, thresholds, windows: counts, worst, maxBreaches, last, overall };
}

export interface Z2Input {
  /** Realised loss per observation (positive = loss), in the same unit as `var`/`es`. */
  loss: ArrayLike<number>;
  var: ArrayLike<number>;
  es: ArrayLike<number>;
  /**
   * For the simulated p-value: per observation, the index into `tails` of the predictive tail
   * to draw from under H0. A tail is a list of loss/ES ratios beyond VaR (mean 1 under the model).
   */
  tailIndex?: ArrayLike<number>;
  tails?: readonly ArrayLike<number>[];
}

export interface Z2Result {
  z2: number;
  /** P(Z2_sim <= Z2_obs) under H0; small means ES is underestimated. */
  pValue: number | undefined;
  simulations: number;
}

/**
 * Acerbi-Szekely Z2 (loss convention): Z2 = 1 - sum_t L_t I_t / (T a ES_t), I_t = 1{L_t > VaR_t}.
 * E[Z2] = 0 under H0; negative values mean the tail is heavier than the ES forecast.
 * The p-value simulates T Bernoulli(a) breaches and, for each breach, a loss/ES ratio drawn from
 * the observation's predictive tail (seeded PRNG, reproducible).
 */
export function acerbiSzekelyZ2(input: Z2Input, alpha: number, options: { simulations?: number; seed?: number } = {}): Z2Result {
  assertRate(alpha);
  const T = input.loss.length;
  if (T === 0) return { z2: 0, pValue: undefined, simulations: 0 };
  let s = 0;
  for (let t = 0; t < T; t++) {
    if (input.loss[t] > input.var[t]) s += input.loss[t] / input.es[t];
  }
  const z2 = 1 - s / (T * alpha);
  const sims = options.simulations ?? 2000;
  if (!input.tails || !input.tailIndex || sims <= 0) return { z2, pValue: undefined, simulations: 0 };
  const rand = mulberry32(options.seed ?? 20240101);
  const logq = Math.log1p(-alpha);
  let le = 0;
  for (let m = 0; m < sims; m++) {
    let sum = 0;
    // Breach positions by geometric gaps: the same law as T Bernoulli(a) draws, in O(a T).
    let t = Math.floor(Math.log(1 - rand()) / logq);
    while (t < T) {
      const tail = input.tails[input.tailIndex[t]];
      sum += tail.length > 0 ? tail[Math.floor(rand() * tail.length)] : 1;
      t += 1 + Math.floor(Math.log(1 - rand()) / logq);
    }
    if (1 - sum / (T * alpha) <= z2) le++;
  }
  return { z2, pValue: (le + 1) / (sims + 1), simulations: sims };
}
