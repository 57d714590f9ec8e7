// Raw SVI smile per expiry (Gatheral 2004): total implied variance
//   w(k) = a + b·(rho·(k - m) + sqrt((k - m)² + sigma²)),  k = ln(K/F),  w = iv²·T
// Fit: (1) for fixed (m, sigma) the model is linear in (a, b·sigma·rho, b·sigma) — the
// quasi-explicit reduction of Zeliade (2009) — solved by weighted least squares and projected on
// b ≥ 0, |rho| < 1, min w ≥ 0, b·(1+|rho|) ≤ 2 (Lee); (2) Nelder–Mead over (m, ln sigma) from a grid of starts spread over
// the data's own range (nothing tuned to particular files); (3) a Nelder–Mead polish of all five
// raw parameters on the weighted squared error in implied-vol units.
// Checks: butterfly (Gatheral's g(k) ≥ 0 on a grid) and calendar (w non-decreasing in T at each k).
import { RiskkeeperError, assertInput } from "../../errors.ts";
import { nelderMead } from "../common/optimize.ts";

export interface SviParams {
  readonly a: number;
  readonly b: number;
  readonly rho: number;
  readonly m: number;
  readonly sigma: number;
}

export interface SliceQuotes {
  /** Time to expiry in years. */
  T: number;
  /** Log-moneyness ln(K/F). */
  k: ArrayLike<number>;
  /** Implied vols (decimal). */
  iv: ArrayLike<number>;
  /** Non-negative fit weights (e.g. vega, or 1/spread²); default equal. */
  weights?: ArrayLike<number>;
  /**
   * When the unconstrained fit breaks the butterfly condition, refit with a penalty on negative g(k)
   * over the check grid (trading some fit error for an arbitrage-free slice). Default false.
   */
  enforceButterfly?: boolean;
}

export interface SviFit {
  readonly params: SviParams;
  readonly T: number;
  readonly n: number;
  /** Root-mean-square error in vol points (1 = one percentage point of vol). */
  readonly rmseVolPoints: number;
  readonly maxErrorVolPoints: number;
  /** Range of quoted log-moneyness. */
  readonly kMin: number;
  readonly kMax: number;
  /** g(k) ≥ 0 on a 201-point grid over the quoted range widened by half its width on each side. */
  readonly butterflyFree: boolean;
  /** Smallest g(k) on the check grid and where. */
  readonly minG: number;
  readonly minGAtK: number;
  /** ATM (k = 0) implied vol, its slope d iv/dk and curvature d² iv/dk². */
  readonly atmVol: number;
  readonly skew: number;
  readonly curvature: number;
}

export const MIN_QUOTES_PER_SLICE = 5;
/**
 * Roger Lee's moment formula bounds the wings of total variance: w(k)/|k| → at most 2, so raw SVI
 * needs b·(1 + |rho|) ≤ 2. Enforced in the fit (otherwise long expiries drift to degenerate
 * parameters, e.g. b = 15, rho = -0.98, whose far wing is arbitrageable outside the quoted range).
 */
export const LEE_MAX_WING_SLOPE = 2;

export function sviTotalVariance(p: SviParams, k: number): number {
  const x = k - p.m;
  return p.a + p.b * (p.rho * x + Math.sqrt(x * x + p.sigma * p.sigma));
}

/** w, w', w'' at k. */
function sviDerivatives(p: SviParams, k: number): [number, number, number] {
  const x = k - p.m;
  const r = Math.sqrt(x * x + p.sigma * p.sigma);
  return [p.a + p.b * (p.rho * x + r), p.b * (p.rho + x / r), (p.b * p.sigma * p.sigma) / (r * r * r)];
}

/** Gatheral's density function g(k); the slice is free of butterfly arbitrage iff g ≥ 0 (and w > 0). */
export function sviG(p: SviParams, k: number): number {
  const [w, w1, w2] = sviDerivatives(p, k);
  if (!(w > 0)) return -Infinity;
  const t = 1 - (k * w1) / (2 * w);
  return t * t - ((w1 * w1) / 4) * (1 / w + 0.25) + w2 / 2;
}

/** Minimum of g over an even grid of `points` in [kMin, kMax]. */
export function butterflyCheck(p: SviParams, kMin: number, kMax: number, points = 201): { minG: number; atK: number } {
  let minG = Infinity, atK = kMin;
  for (let i = 0; i < points; i++) {
    const k = kMin + ((kMax - kMin) * i) / (points - 1);
    const g = sviG(p, k);
    if (g < minG) { minG = g; atK = k; }
  }
  return { minG, atK };
}

/** Implied vol at k for maturity T. */
export function sviImpliedVol(p: SviParams, T: number, k: number): number {
  return Math.sqrt(Math.max(sviTotalVariance(p, k), 0) / T);
}

/** Weighted LS for w ≈ a + d·y + c·sqrt(y²+1), y = (k-m)/sigma, projected on the constraints. */
function innerFit(k: Float64Array, w: Float64Array, wt: Float64Array, m: number, sigma: number): SviParams {
  const n = k.length;
  // Normal equations for the 3-column design [1, y, z].
  let s11 = 0, s1y = 0, s1z = 0, syy = 0, syz = 0, szz = 0, r1 = 0, ry = 0, rz = 0;
  for (let i = 0; i < n; i++) {
    const y = (k[i] - m) / sigma;
    const z = Math.sqrt(y * y + 1);
    const q = wt[i];
    s11 += q; s1y += q * y; s1z += q * z; syy += q * y * y; syz += q * y * z; szz += q * z * z;
    r1 += q * w[i]; ry += q * y * w[i]; rz += q * z * w[i];
  }
  const solve3 = (): [number, number, number] | undefined => {
    const A = [[s11, s1y, s1z], [s1y, syy, syz], [s1z, syz, szz]];
    const det = A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) - A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) + A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
    if (!(Math.abs(det) > 1e-300)) return undefined;
    const cramer = (col: number) => {
      const M = A.map((row) => [...row]);
      const rhs = [r1, ry, rz];
      for (let i = 0; i < 3; i++) M[i][col] = rhs[i];
      return (M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) - M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) + M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0])) / det;
    };
    return [cramer(0), cramer(1), cramer(2)];
  };
  let sol = solve3();
  let a: number, d: number, c: number;
  if (sol && sol[2] > 0 && Math.abs(sol[1]) < sol[2]) {
    [a, d, c] = sol;
  } else {
    // Project: the best of the two edges |d| = c (rho = ±1 limit, pulled in slightly) with c ≥ 0.
    let best: [number, number, number] = [r1 / s11, 0, 0];
    let bestErr = Infinity;
    for (const sgn of [-0.999, 0.999]) {
      // w ≈ a + c·(sgn·y + z): 2-variable LS.
      let s1u = 0, suu = 0, ru = 0;
      for (let i = 0; i < n; i++) {
        const y = (k[i] - m) / sigma;
        const u = sgn * y + Math.sqrt(y * y + 1);
        s1u += wt[i] * u; suu += wt[i] * u * u; ru += wt[i] * u * w[i];
      }
      const det = s11 * suu - s1u * s1u;
      let cc = det > 0 ? (s11 * ru - s1u * r1) / det : 0;
      if (cc < 0) cc = 0;
      const aa = (r1 - cc * s1u) / s11;
      let err = 0;
      for (let i = 0; i < n; i++) {
        const y = (k[i] - m) / sigma;
        const e = aa + cc * (sgn * y + Math.sqrt(y * y + 1)) - w[i];
        err += wt[i] * e * e;
      }
      if (err < bestErr) { bestErr = err; best = [aa, sgn * cc, cc]; }
    }
    [a, d, c] = best;
    sol = undefined;
  }
  let b = c / sigma;
  const rho = c > 0 ? Math.max(-0.999, Math.min(0.999, d / c)) : 0;
  if (b * (1 + Math.abs(rho)) > LEE_MAX_WING_SLOPE) {
    // Project on Lee's wing bound and refit the level a by weighted least squares.
    b = LEE_MAX_WING_SLOPE / (1 + Math.abs(rho));
    let num = 0, den = 0;
    for (let i = 0; i < n; i++) {
      const x = k[i] - m;
      num += wt[i] * (w[i] - b * (rho * x + Math.sqrt(x * x + sigma * sigma)));
      den += wt[i];
    }
    a = num / den;
  }
  // Keep min w = a + b·sigma·sqrt(1-rho²) ≥ 0.
  const minW = a + b * sigma * Math.sqrt(1 - rho * rho);
  if (minW < 0) a -= minW;
  return { a, b, rho, m, sigma };
}

/**
 * Fits raw SVI to one expiry's quotes.
 * @example
 * fitSviSlice({ T: 0.25, k: [-0.2, -0.1, 0, 0.1, 0.2], iv: [0.62, 0.57, 0.55, 0.56, 0.59] }).params
 */
export function fitSviSlice(q: SliceQuotes): SviFit {
  assertInput(Number.isFinite(q.T) && q.T > 0, `must be a finite number > 0, got ${q.T}`, "T", "MODEL_INPUT");
  const n = q.k.length;
  assertInput(q.iv.length === n, `iv has ${q.iv.length} values for ${n} strikes`, "iv", "MODEL_INPUT");
  if (n < MIN_QUOTES_PER_SLICE) {
    throw new RiskkeeperError("MODEL_INPUT", `needs at least ${MIN_QUOTES_PER_SLICE} quotes to fit 5 SVI parameters, got ${n}`, { input: "quotes" });
  }
  const k = new Float64Array(n), iv = new Float64Array(n), w = new Float64Array(n), wt = new Float64Array(n);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    k[i] = q.k[i]; iv[i] = q.iv[i];
    assertInput(Number.isFinite(k[i]), `must be finite, got ${k[i]}`, `k[${i}]`, "MODEL_INPUT");
    assertInput(Number.isFinite(iv[i]) && iv[i] > 0, `must be a finite vol > 0, got ${iv[i]}`, `iv[${i}]`, "MODEL_INPUT");
    wt[i] = q.weights ? q.weights[i] : 1;
    assertInput(Number.isFinite(wt[i]) && wt[i] >= 0, `must be finite and ≥ 0, got ${wt[i]}`, `weights[${i}]`, "MODEL_INPUT");
    w[i] = iv[i] * iv[i] * q.T;
    wsum += wt[i];
  }
  assertInput(wsum > 0, "all weights are zero", "weights", "MODEL_INPUT");
  for (let i = 0; i < n; i++) wt[i] /= wsum;
  let kMin = Infinity, kMax = -Infinity;
  for (let i = 0; i < n; i++) { kMin = Math.min(kMin, k[i]); kMax = Math.max(kMax, k[i]); }
  const span = Math.max(kMax - kMin, 1e-3);
  if (new Set(Array.from(k)).size < 3) {
    throw new RiskkeeperError("MODEL_INPUT", "needs at least 3 distinct strikes", { input: "k" });
  }
  const T = q.T;
  const volErr = (p: SviParams): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const wm = sviTotalVariance(p, k[i]);
      if (!(wm > 0)) return Infinity;
      const e = Math.sqrt(wm / T) - iv[i];
      s += wt[i] * e * e;
    }
    return s;
  };
  // Stage 1-2: (m, ln sigma) with the inner linear solve.
  const outer = (x: number[]): number => {
    const sigma = Math.exp(x[1]);
    if (!(sigma > 1e-4 * span && sigma < 10 * span + 1)) return Infinity;
    if (x[0] < kMin - 2 * span || x[0] > kMax + 2 * span) return Infinity;
    return volErr(innerFit(k, w, wt, x[0], sigma));
  };
  let iMin = 0;
  for (let i = 1; i < n; i++) if (w[i] < w[iMin]) iMin = i;
  let best: number[] = [k[iMin], Math.log(0.25 * span)];
  let bestF = outer(best);
  for (const mFrac of [0.2, 0.5, 0.8]) {
    for (const sFrac of [0.05, 0.2, 0.6]) {
      const x = [kMin + mFrac * span, Math.log(sFrac * span)];
      const f = outer(x);
      if (f < bestF) { bestF = f; best = x; }
    }
  }
  const stage2 = nelderMead(outer, best, { maxEvaluations: 600, tolerance: 1e-12, restarts: 1, initialStep: [0.1 * span, 0.5] });
  const p2 = innerFit(k, w, wt, stage2.x[0], Math.exp(stage2.x[1]));
  // Stage 3: polish all five raw parameters, keeping b ≥ 0, |rho| < 1, sigma > 0, min w ≥ 0.
  const unpack = (x: number[]): SviParams => ({ a: x[0], b: Math.exp(x[1]), rho: Math.tanh(x[2]), m: x[3], sigma: Math.exp(x[4]) });
  const polish = (x: number[]): number => {
    const p = unpack(x);
    if (p.a + p.b * p.sigma * Math.sqrt(1 - p.rho * p.rho) < 0) return Infinity;
    if (p.b * (1 + Math.abs(p.rho)) > LEE_MAX_WING_SLOPE) return Infinity;
    if (!(p.sigma > 1e-4 * span)) return Infinity;
    return volErr(p);
  };
  const x0 = [p2.a, Math.log(Math.max(p2.b, 1e-8)), Math.atanh(Math.max(-0.999, Math.min(0.999, p2.rho))), p2.m, Math.log(p2.sigma)];
  const stage3 = nelderMead(polish, x0, { maxEvaluations: 1500, tolerance: 1e-14, restarts: 1 });
  let params: SviParams = Object.freeze(stage3.f <= volErr(p2) ? unpack(stage3.x) : p2);
  const gMin = kMin - 0.5 * span, gMax = kMax + 0.5 * span;
  if (q.enforceButterfly === true && butterflyCheck(params, gMin, gMax).minG < 0) {
    // Stage 4: the same polish plus a heavy penalty on negative g over the check grid.
    const penalised = (x: number[]): number => {
      const base = polish(x);
      if (!Number.isFinite(base)) return base;
      const p = unpack(x);
      let pen = 0;
      for (let i = 0; i < 201; i++) {
        const g = sviG(p, gMin + ((gMax - gMin) * i) / 200);
        if (g < 1e-6) pen += Number.isFinite(g) ? 10 * (1e-6 - g) : 1e6; // linear: small violations still cost
      }
      return base + pen;
    };
    const cur = [params.a, Math.log(Math.max(params.b, 1e-8)), Math.atanh(Math.max(-0.999, Math.min(0.999, params.rho))), params.m, Math.log(params.sigma)];
    const stage4 = nelderMead(penalised, cur, { maxEvaluations: 3000, tolerance: 1e-14, restarts: 2 });
    const candidate = unpack(stage4.x);
    if (butterflyCheck(candidate, gMin, gMax).minG >= butterflyCheck(params, gMin, gMax).minG) params = Object.freeze(candidate);
  }
  let se = 0, maxErr = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.abs(sviImpliedVol(params, T, k[i]) - iv[i]);
    se += e * e;
    maxErr = Math.max(maxErr, e);
  }
  const check = butterflyCheck(params, gMin, gMax);
  const [w0, w1, w2] = sviDerivatives(params, 0);
  const sq = Math.sqrt(w0 * T);
  return Object.freeze({
    params, T, n,
    rmseVolPoints: 100 * Math.sqrt(se / n),
    maxErrorVolPoints: 100 * maxErr,
    kMin, kMax,
    butterflyFree: check.minG >= -1e-10,
    minG: check.minG, minGAtK: check.atK,
    atmVol: Math.sqrt(w0 / T),
    skew: w1 / (2 * sq),
    curvature: w2 / (2 * sq) - (w1 * w1) / (4 * w0 * sq),
  });
}

export interface CalendarViolation {
  readonly shorterT: number;
  readonly longerT: number;
  /** Worst k on the grid and the total variances there. */
  readonly k: number;
  readonly wShorter: number;
  readonly wLonger: number;
}

/**
 * Calendar check across slices (sorted by T here): total variance must not fall as T grows at any
 * k of the grid (the overlap of the two slices' quoted ranges when known). Returns one entry per
 * consecutive pair that violates, at its worst k.
 */
export function calendarCheck(
  slices: readonly { params: SviParams; T: number; kMin?: number; kMax?: number }[], points = 101, tolerance = 1e-8,
): CalendarViolation[] {
  const sorted = [...slices].sort((x, y) => x.T - y.T);
  const out: CalendarViolation[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const s = sorted[i], l = sorted[i + 1];
    if (l.T === s.T) continue;
    // Checked where both slices are quoted (no judging extrapolated wings); [-1, 1] without ranges.
    const kMin = Math.max(s.kMin ?? -1, l.kMin ?? -1);
    const kMax = Math.min(s.kMax ?? 1, l.kMax ?? 1);
    if (!(kMax > kMin)) continue;
    let worst = 0, worstK = 0, ws = 0, wl = 0;
    for (let j = 0; j < points; j++) {
      const k = kMin + ((kMax - kMin) * j) / (points - 1);
      const a = sviTotalVariance(s.params, k), b = sviTotalVariance(l.params, k);
      if (a - b > worst) { worst = a - b; worstK = k; ws = a; wl = b; }
    }
    if (worst > tolerance) out.push(Object.freeze({ shorterT: s.T, longerT: l.T, k: worstK, wShorter: ws, wLonger: wl }));
  }
  return out;
}
