// The fast likelihood kernel shared by EWMA, GARCH(1,1) and GJR-GARCH(1,1): one pass over a
// Float64Array computing the log-likelihood, its analytic gradient (by differentiating the
// variance recursion), and optionally the conditional variances and per-observation scores.
//
// Parameters are always the full natural vector THETA = [mu, omega, alpha, gamma, beta, nu]:
//   e_t   = r_t - mu
//   h_t   = omega + (alpha + gamma·1[e_{t-1} < 0])·e_{t-1}² + beta·h_{t-1}
// GARCH sets gamma = 0; EWMA sets omega = 0, alpha = 1 - lambda, beta = lambda; "normal" ignores nu.
//
// Start of the recursion: the pre-sample shock and variance are both set to a backcast b,
//   e_{-1}² = h_{-1} = b,  so  h_0 = omega + (alpha + gamma/2 + beta)·b
// with b = mean of squared residuals (START_SAMPLE, the certified convention) or an exponentially
// weighted backcast of the first 75 squared residuals with weights 0.94^j (START_EWMA_BACKCAST,
// the `arch` convention). b depends on mu, and that dependence is in the gradient too.
import { digamma, logGamma } from "../common/special.ts";

export const THETA_MU = 0, THETA_OMEGA = 1, THETA_ALPHA = 2, THETA_GAMMA = 3, THETA_BETA = 4, THETA_NU = 5;
export const DIST_NORMAL = 0, DIST_T = 1;
export const START_SAMPLE = 0, START_EWMA_BACKCAST = 1;

const LOG_2PI = Math.log(2 * Math.PI);

export interface KernelOutputs {
  /** ∂LL/∂THETA (length 6), or null to skip. */
  grad: Float64Array | null;
  /** h_t for t = 0..n-1 (length n), or null. */
  condVar: Float64Array | null;
  /** Per-observation scores ∂l_t/∂THETA, row-major n×6, or null. */
  scores: Float64Array | null;
  /** Filled with [h_n (the one-step-ahead variance), e_{n-1}]. */
  tail: Float64Array | null;
}

/** Log-likelihood of `x` at `theta`; -Infinity when a variance is not positive/finite. */
export function logLikelihood(
  x: Float64Array, theta: Float64Array, dist: number, start: number, out: KernelOutputs,
): number {
  const n = x.length;
  const mu = theta[0], omega = theta[1], alpha = theta[2], gamma = theta[3], beta = theta[4], nu = theta[5];
  const wantGrad = out.grad !== null || out.scores !== null;
  // Backcast b and db/dmu.
  let b = 0, db = 0;
  if (start === START_SAMPLE) {
    let se = 0;
    for (let t = 0; t < n; t++) { const e = x[t] - mu; b += e * e; se += e; }
    b /= n;
    db = (-2 * se) / n;
  } else {
    const tau = Math.min(75, n);
    let w = 1, wsum = 0, se = 0;
    for (let t = 0; t < tau; t++) { const e = x[t] - mu; b += w * e * e; se += w * e; wsum += w; w *= 0.94; }
    b /= wsum;
    db = (-2 * se) / wsum;
  }
  const isT = dist === DIST_T;
  let cNu = 0, dcNu = 0, nu2 = 1, nuHalf = 0;
  if (isT) {
    if (!(nu > 2)) return -Infinity;
    nu2 = nu - 2;
    nuHalf = 0.5 * (nu + 1);
    cNu = logGamma(nuHalf) - logGamma(0.5 * nu) - 0.5 * Math.log(Math.PI * nu2);
    if (wantGrad) dcNu = 0.5 * digamma(nuHalf) - 0.5 * digamma(0.5 * nu) - 0.5 / nu2;
  }
  const pers = alpha + 0.5 * gamma + beta;
  let h = omega + pers * b;
  let dMu = pers * db, dOm = 1, dAl = b, dGa = 0.5 * b, dBe = b;
  let gMu = 0, gOm = 0, gAl = 0, gGa = 0, gBe = 0, gNu = 0;
  let ll = 0;
  let e = 0;
  const scores = out.scores;
  const condVar = out.condVar;
  for (let t = 0; t < n; t++) {
    if (!(h > 0 && h < Infinity)) return -Infinity;
    e = x[t] - mu;
    const e2 = e * e;
    const logh = Math.log(h);
    let dlh: number, dle: number, dln = 0;
    if (isT) {
      const q = e2 / (h * nu2);
      const A = 1 + q;
      const logA = Math.log1p(q);
      ll += cNu - 0.5 * logh - nuHalf * logA;
      if (wantGrad) {
        dlh = (-0.5 + (nuHalf * q) / A) / h;
        dle = (-(nu + 1) * e) / (h * nu2 * A);
        dln = dcNu - 0.5 * logA + (nuHalf * q) / (A * nu2);
        gNu += dln;
      } else { dlh = 0; dle = 0; }
    } else {
      ll -= 0.5 * (LOG_2PI + logh + e2 / h);
      dlh = (0.5 * (e2 / h - 1)) / h;
      dle = -e / h;
    }
    if (wantGrad) {
      const sMu = dlh * dMu - dle, sOm = dlh * dOm, sAl = dlh * dAl, sGa = dlh * dGa, sBe = dlh * dBe;
      gMu += sMu; gOm += sOm; gAl += sAl; gGa += sGa; gBe += sBe;
      if (scores !== null) {
        const o = t * 6;
        scores[o] = sMu; scores[o + 1] = sOm; scores[o + 2] = sAl; scores[o + 3] = sGa; scores[o + 4] = sBe; scores[o + 5] = dln;
      }
    }
    if (condVar !== null) condVar[t] = h;
    const neg = e < 0 ? 1 : 0;
    const a = alpha + gamma * neg;
    const hNext = omega + a * e2 + beta * h;
    if (wantGrad) {
      dMu = -2 * a * e + beta * dMu;
      dOm = 1 + beta * dOm;
      dAl = e2 + beta * dAl;
      dGa = neg * e2 + beta * dGa;
      dBe = h + beta * dBe;
    }
    h = hNext;
  }
  if (out.grad !== null) {
    const g = out.grad;
    g[0] = gMu; g[1] = gOm; g[2] = gAl; g[3] = gGa; g[4] = gBe; g[5] = gNu;
  }
  if (out.tail !== null) { out.tail[0] = h; out.tail[1] = e; }
  return ll;
}
