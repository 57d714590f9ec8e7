// Maximum-likelihood fit of EWMA, GARCH(1,1) and GJR-GARCH(1,1) with normal or standardised
// Student-t innovations and a constant (or zero) mean.
//
// How: the returns are divided by their sample standard deviation s (so the optimiser always sees
// unit-scale data), the constraints are removed by reparametrisation (omega = e^z, persistence
// p = alpha + beta + gamma/2 = PMAX·logistic(z), its split by logistic/softmax shares,
// nu = 2.05 + 497.95·logistic(z), lambda = 0.5 + 0.49999·logistic(z)), the start comes from a small
// grid under variance targeting, and BFGS minimises -LL/n using the analytic gradient of kernel.ts.
// Standard errors come from a central-difference Hessian of the analytic gradient (in natural
// parameters) and the outer product of per-observation scores. Everything is mapped back to the
// units of the input at the end (mu·s, omega·s², LL - n·log s).
import { RiskkeeperError, assertInput } from "../../errors.ts";
import { invert, matMul } from "../common/linalg.ts";
import { bfgs } from "../common/optimize.ts";
import { assertNotFlat, mean, toFiniteSeries, variance } from "../common/validate.ts";
import {
  DIST_NORMAL, DIST_T, START_EWMA_BACKCAST, START_SAMPLE, THETA_ALPHA, THETA_BETA, THETA_GAMMA,
  THETA_MU, THETA_NU, THETA_OMEGA, logLikelihood,
} from "./kernel.ts";
import type {
  ParamName, ResolvedVolatilitySpec, VolatilityFit, VolatilityParams, VolatilitySpec, VolatilityWarning,
} from "./spec.ts";

export const PERSISTENCE_MAX = 1 - 1e-6;
export const NU_MIN = 2.05, NU_MAX = 500;
export const LAMBDA_MIN = 0.5, LAMBDA_MAX = 0.99999;
/** Fewest returns accepted by an estimated model (a fixed-lambda EWMA needs MIN_OBS_FIXED). */
export const MIN_OBS_ESTIMATED = 100;
export const MIN_OBS_FIXED = 10;
/** persistence above this raises the INTEGRATED warning. */
export const INTEGRATED_THRESHOLD = 0.998;

const logistic = (z: number): number => 1 / (1 + Math.exp(-z));
const logit = (p: number): number => Math.log(p / (1 - p));

/** Fills in the defaults and checks the spec; throws INPUT_INVALID naming the bad field. */
export function resolveVolatilitySpec(spec: VolatilitySpec): ResolvedVolatilitySpec {
  assertInput(spec !== null && typeof spec === "object", "expected a spec object", "spec");
  assertInput(["ewma", "garch", "gjr"].includes(spec.model), `must be "ewma", "garch" or "gjr", got ${String(spec.model)}`, "spec.model");
  const dist = spec.dist ?? "normal";
  assertInput(dist === "normal" || dist === "t", `must be "normal" or "t", got ${String(dist)}`, "spec.dist");
  const meanModel = spec.mean ?? "constant";
  assertInput(meanModel === "constant" || meanModel === "zero", `must be "constant" or "zero", got ${String(meanModel)}`, "spec.mean");
  const start = spec.varianceStart ?? "sample";
  assertInput(start === "sample" || start === "ewma-backcast", `must be "sample" or "ewma-backcast", got ${String(start)}`, "spec.varianceStart");
  const lambda = spec.lambda ?? 0.94;
  assertInput(Number.isFinite(lambda) && lambda > 0 && lambda < 1, `must be in (0, 1), got ${lambda}`, "spec.lambda");
  const maxIterations = spec.maxIterations ?? 300;
  assertInput(Number.isInteger(maxIterations) && maxIterations > 0, `must be a positive integer, got ${maxIterations}`, "spec.maxIterations");
  const gradientTolerance = spec.gradientTolerance ?? 1e-9;
  assertInput(Number.isFinite(gradientTolerance) && gradientTolerance > 0, `must be > 0, got ${gradientTolerance}`, "spec.gradientTolerance");
  return Object.freeze({
    model: spec.model, dist, mean: meanModel, varianceStart: start, lambda,
    estimateLambda: spec.model === "ewma" && spec.estimateLambda === true, maxIterations, gradientTolerance,
  });
}

/** The unconstrained parametrisation of one resolved spec. */
interface Layout {
  names: ParamName[];
  /** z → THETA (full natural 6-vector, unit-scale data). */
  toTheta(z: Float64Array, theta: Float64Array): void;
  /** ∂LL/∂THETA → ∂LL/∂z. */
  chain(z: Float64Array, g6: Float64Array, gz: Float64Array): void;
  /** Natural free vector (in `names` order) ↔ THETA. */
  naturalToTheta(v: Float64Array, theta: Float64Array): void;
  thetaToNatural(theta: Float64Array): Float64Array;
  naturalGrad(g6: Float64Array): Float64Array;
  /** Natural start values (THETA) → z. */
  thetaToZ(theta: Float64Array): Float64Array;
}

function makeLayout(spec: ResolvedVolatilitySpec): Layout {
  const hasMu = spec.mean === "constant";
  const isT = spec.dist === "t";
  const model = spec.model;
  const names: ParamName[] = [];
  if (hasMu) names.push("mu");
  if (model === "garch") names.push("omega", "alpha", "beta");
  if (model === "gjr") names.push("omega", "alpha", "gamma", "beta");
  if (model === "ewma" && spec.estimateLambda) names.push("lambda");
  if (isT) names.push("nu");
  const fixedLambda = spec.lambda;

  const toTheta = (z: Float64Array, th: Float64Array): void => {
    let i = 0;
    th[THETA_MU] = hasMu ? z[i++] : 0;
    th[THETA_GAMMA] = 0;
    if (model === "garch") {
      th[THETA_OMEGA] = Math.exp(z[i++]);
      const p = PERSISTENCE_MAX * logistic(z[i++]);
      const s = logistic(z[i++]);
      th[THETA_ALPHA] = p * s;
      th[THETA_BETA] = p * (1 - s);
    } else if (model === "gjr") {
      th[THETA_OMEGA] = Math.exp(z[i++]);
      const p = PERSISTENCE_MAX * logistic(z[i++]);
      const ea = Math.exp(z[i++]), eg = Math.exp(z[i++]);
      const den = ea + eg + 1;
      th[THETA_ALPHA] = (p * ea) / den;
      th[THETA_GAMMA] = (2 * p * eg) / den;
      th[THETA_BETA] = p / den;
    } else {
      const lambda = spec.estimateLambda ? LAMBDA_MIN + (LAMBDA_MAX - LAMBDA_MIN) * logistic(z[i++]) : fixedLambda;
      th[THETA_OMEGA] = 0;
      th[THETA_ALPHA] = 1 - lambda;
      th[THETA_BETA] = lambda;
    }
    th[THETA_NU] = isT ? NU_MIN + (NU_MAX - NU_MIN) * logistic(z[i++]) : 0;
  };

  const chain = (z: Float64Array, g: Float64Array, gz: Float64Array): void => {
    let i = 0;
    if (hasMu) gz[i++] = g[THETA_MU];
    if (model === "garch") {
      const om = Math.exp(z[i]);
      gz[i++] = g[THETA_OMEGA] * om;
      const lp = logistic(z[i]);
      const p = PERSISTENCE_MAX * lp;
      const s = logistic(z[i + 1]);
      gz[i++] = (g[THETA_ALPHA] * s + g[THETA_BETA] * (1 - s)) * PERSISTENCE_MAX * lp * (1 - lp);
      gz[i++] = (g[THETA_ALPHA] - g[THETA_BETA]) * p * s * (1 - s);
    } else if (model === "gjr") {
      gz[i] = g[THETA_OMEGA] * Math.exp(z[i]);
      i++;
      const lp = logistic(z[i]);
      const p = PERSISTENCE_MAX * lp;
      const ea = Math.exp(z[i + 1]), eg = Math.exp(z[i + 2]);
      const den = ea + eg + 1;
      const wa = ea / den, wg = eg / den, wb = 1 / den;
      gz[i++] = (g[THETA_ALPHA] * wa + 2 * g[THETA_GAMMA] * wg + g[THETA_BETA] * wb) * PERSISTENCE_MAX * lp * (1 - lp);
      const Ga = g[THETA_ALPHA] * p, Gg = 2 * g[THETA_GAMMA] * p, Gb = g[THETA_BETA] * p;
      const avg = Ga * wa + Gg * wg + Gb * wb;
      gz[i++] = wa * (Ga - avg);
      gz[i++] = wg * (Gg - avg);
    } else if (spec.estimateLambda) {
      const l = logistic(z[i]);
      gz[i++] = (g[THETA_BETA] - g[THETA_ALPHA]) * (LAMBDA_MAX - LAMBDA_MIN) * l * (1 - l);
    }
    if (isT) {
      const l = logistic(z[i]);
      gz[i++] = g[THETA_NU] * (NU_MAX - NU_MIN) * l * (1 - l);
    }
  };

  const naturalToTheta = (v: Float64Array, th: Float64Array): void => {
    th.fill(0);
    if (model === "ewma") { th[THETA_ALPHA] = 1 - fixedLambda; th[THETA_BETA] = fixedLambda; }
    names.forEach((name, i) => {
      if (name === "lambda") { th[THETA_ALPHA] = 1 - v[i]; th[THETA_BETA] = v[i]; } else th[THETA_INDEX[name]] = v[i];
    });
  };
  const thetaToNatural = (th: Float64Array): Float64Array =>
    Float64Array.from(names, (name) => (name === "lambda" ? th[THETA_BETA] : th[THETA_INDEX[name]]));
  const naturalGrad = (g: Float64Array): Float64Array =>
    Float64Array.from(names, (name) => (name === "lambda" ? g[THETA_BETA] - g[THETA_ALPHA] : g[THETA_INDEX[name]]));

  const thetaToZ = (th: Float64Array): Float64Array => {
    const z: number[] = [];
    if (hasMu) z.push(th[THETA_MU]);
    if (model === "garch") {
      const p = th[THETA_ALPHA] + th[THETA_BETA];
      z.push(Math.log(th[THETA_OMEGA]), logit(p / PERSISTENCE_MAX), logit(th[THETA_ALPHA] / p));
    } else if (model === "gjr") {
      const p = th[THETA_ALPHA] + th[THETA_GAMMA] / 2 + th[THETA_BETA];
      z.push(Math.log(th[THETA_OMEGA]), logit(p / PERSISTENCE_MAX),
        Math.log(th[THETA_ALPHA] / th[THETA_BETA]), Math.log(th[THETA_GAMMA] / 2 / th[THETA_BETA]));
    } else if (spec.estimateLambda) {
      z.push(logit((th[THETA_BETA] - LAMBDA_MIN) / (LAMBDA_MAX - LAMBDA_MIN)));
    }
    if (isT) z.push(logit((th[THETA_NU] - NU_MIN) / (NU_MAX - NU_MIN)));
    return Float64Array.from(z);
  };
  return { names, toTheta, chain, naturalToTheta, thetaToNatural, naturalGrad, thetaToZ };
}

const THETA_INDEX: Record<Exclude<ParamName, "lambda">, number> = {
  mu: THETA_MU, omega: THETA_OMEGA, alpha: THETA_ALPHA, gamma: THETA_GAMMA, beta: THETA_BETA, nu: THETA_NU,
};

/** Candidate starts (unit-variance data, variance targeting: omega = 1 - persistence). */
function startCandidates(spec: ResolvedVolatilitySpec, mu: number): Float64Array[] {
  const out: Float64Array[] = [];
  const nu = spec.dist === "t" ? 8 : 0;
  if (spec.model === "ewma") {
    for (const lambda of spec.estimateLambda ? [0.9, 0.94, 0.97, 0.99] : [spec.lambda]) {
      out.push(Float64Array.from([mu, 0, 1 - lambda, 0, lambda, nu]));
    }
    return out;
  }
  for (const p of [0.93, 0.985]) {
    for (const alpha of [0.05, 0.15]) {
      const gammas = spec.model === "gjr" ? [0.25 * alpha, alpha] : [0];
      for (const gamma of gammas) {
        const beta = p - alpha - gamma / 2;
        out.push(Float64Array.from([mu, 1 - p, alpha, gamma, beta, nu]));
      }
    }
  }
  return out;
}

/**
 * Fits a volatility model to `returns` (log returns, any consistent unit) by exact maximum likelihood.
 * Throws MODEL_INPUT for non-finite values, too few observations or a flat series; returns a
 * frozen VolatilityFit whose `warnings` name soft problems (scaling, convergence, integration).
 *
 * @example
 * const fit = fitGarch(returns, { model: "garch", dist: "t" });
 * fit.params.alpha; fit.stdErrors.alpha; fit.logLikelihood; fit.converged;
 */
export function fitGarch(returns: ArrayLike<number>, spec: VolatilitySpec): VolatilityFit {
  const rs = resolveVolatilitySpec(spec);
  const estimated = rs.model !== "ewma" || rs.estimateLambda || rs.mean === "constant" || rs.dist === "t";
  const minObs = rs.model === "ewma" && !rs.estimateLambda ? MIN_OBS_FIXED : MIN_OBS_ESTIMATED;
  const raw = toFiniteSeries(returns, "returns", minObs);
  assertNotFlat(raw, "returns");
  const n = raw.length;
  const rawMean = mean(raw);
  const scale = Math.sqrt(rs.mean === "constant" ? variance(raw, rawMean) : variance(raw, 0));
  const x = new Float64Array(n);
  for (let t = 0; t < n; t++) x[t] = raw[t] / scale;
  const dist = rs.dist === "t" ? DIST_T : DIST_NORMAL;
  const start = rs.varianceStart === "sample" ? START_SAMPLE : START_EWMA_BACKCAST;
  const layout = makeLayout(rs);
  const k = layout.names.length;
  const theta = new Float64Array(6);
  const g6 = new Float64Array(6);
  const kernelOut = { grad: g6, condVar: null, scores: null, tail: null };
  const valueOnly = { grad: null, condVar: null, scores: null, tail: null };

  // Objective in z: -LL/n and its gradient.
  const fg = (z: Float64Array, gz: Float64Array): number => {
    layout.toTheta(z, theta);
    const ll = logLikelihood(x, theta, dist, start, kernelOut);
    if (!Number.isFinite(ll)) return Infinity;
    layout.chain(z, g6, gz);
    for (let i = 0; i < gz.length; i++) gz[i] = -gz[i] / n;
    return -ll / n;
  };

  // Start: best of a small grid (then nu from a few values for Student-t).
  const mu0 = rs.mean === "constant" ? mean(x) : 0;
  let bestTheta = startCandidates(rs, mu0)[0];
  let bestLl = -Infinity;
  for (const cand of startCandidates(rs, mu0)) {
    const ll = logLikelihood(x, cand, dist, start, valueOnly);
    if (ll > bestLl) { bestLl = ll; bestTheta = cand; }
  }
  if (rs.dist === "t") {
    const base = Float64Array.from(bestTheta);
    for (const nu of [4, 6, 15]) {
      base[THETA_NU] = nu;
      const ll = logLikelihood(x, base, dist, start, valueOnly);
      if (ll > bestLl) { bestLl = ll; bestTheta = Float64Array.from(base); }
    }
  }

  let z = layout.thetaToZ(bestTheta);
  let converged = true;
  let iterations = 0;
  let stopReason = "nothing to estimate";
  if (estimated && k > 0) {
    const res = bfgs(fg, z, { gradientTolerance: rs.gradientTolerance, maxIterations: rs.maxIterations });
    z = res.x;
    converged = res.converged;
    iterations = res.iterations;
    stopReason = res.reason;
  }
  layout.toTheta(z, theta);
  const condVar = new Float64Array(n);
  const tail = new Float64Array(2);
  const scores = k > 0 ? new Float64Array(n * 6) : null;
  const llScaled = logLikelihood(x, theta, dist, start, { grad: g6, condVar, scores, tail });
  if (!Number.isFinite(llScaled)) {
    throw new RiskkeeperError("MODEL_FIT", "the fitted variance recursion is not finite; check the returns for extreme outliers", { input: "returns" });
  }

  // Standard errors in natural, unit-scale parameters.
  const warnings: VolatilityWarning[] = [];
  const { covRobust, covHessian } = k > 0 ? covariances(layout, theta, x, dist, start, scores as Float64Array, n) : { covRobust: undefined, covHessian: undefined };
  if (k > 0 && covRobust === undefined) {
    warnings.push({ code: "SINGULAR_HESSIAN", message: "the Hessian of the log-likelihood is singular at the optimum, so standard errors are not available; the model is probably over-parametrised for this series (try GARCH instead of GJR, or normal instead of t)" });
  }
  // Back to input units: mu·s, omega·s²; the rest are scale-free.
  const unitScale = (name: ParamName): number => (name === "mu" ? scale : name === "omega" ? scale * scale : 1);
  const seFrom = (cov: number[][] | undefined): Partial<Record<ParamName, number>> => {
    const out: Partial<Record<ParamName, number>> = {};
    if (cov) layout.names.forEach((name, i) => { out[name] = Math.sqrt(Math.max(cov[i][i], 0)) * unitScale(name); });
    return Object.freeze(out);
  };
  const covariance = covRobust?.map((row, i) => Object.freeze(row.map((v, j) => v * unitScale(layout.names[i]) * unitScale(layout.names[j]))));

  const mu = theta[THETA_MU] * scale;
  const omega = theta[THETA_OMEGA] * scale * scale;
  const params: VolatilityParams = Object.freeze({
    mu, omega, alpha: theta[THETA_ALPHA], beta: theta[THETA_BETA], gamma: theta[THETA_GAMMA],
    ...(rs.dist === "t" ? { nu: theta[THETA_NU] } : {}),
    ...(rs.model === "ewma" ? { lambda: theta[THETA_BETA] } : {}),
  });
  const persistence = rs.model === "ewma" ? 1 : theta[THETA_ALPHA] + theta[THETA_BETA] + theta[THETA_GAMMA] / 2;
  const logLik = llScaled - n * Math.log(scale);
  const kAll = k;
  const s2 = scale * scale;
  const std = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    std[t] = (x[t] - theta[THETA_MU]) / Math.sqrt(condVar[t]);
    condVar[t] *= s2;
  }

  // Named warnings.
  const sd = scale;
  if (sd > 0.2) {
    warnings.push({ code: "POOR_SCALING", message: `the returns' standard deviation is ${sd.toPrecision(3)}, which looks like percent (or price changes) rather than decimal log returns; the fit is unaffected (data are rescaled internally) but divide by 100 before passing variances or vols to a pricer` });
  } else if (sd < 1e-5) {
    warnings.push({ code: "POOR_SCALING", message: `the returns' standard deviation is ${sd.toPrecision(3)}, unusually small for log returns; check the units (basis points? a stale price series?)` });
  }
  if (!converged) {
    warnings.push({ code: "NOT_CONVERGED", message: `the optimiser stopped (${stopReason}) after ${iterations} iterations without meeting the gradient tolerance; try more data, another model (GARCH rather than GJR), or a looser spec.gradientTolerance` });
  }
  if (rs.model !== "ewma" && persistence > INTEGRATED_THRESHOLD) {
    warnings.push({ code: "INTEGRATED", message: `alpha + beta${rs.model === "gjr" ? " + gamma/2" : ""} = ${persistence.toFixed(5)} ≈ 1: shocks barely decay and long-horizon forecasts grow almost linearly; consider EWMA/IGARCH or a shorter, more homogeneous sample` });
  }
  const atBound: string[] = [];
  if (rs.model === "garch" || rs.model === "gjr") {
    if (theta[THETA_ALPHA] < 1e-6) atBound.push("alpha ≈ 0");
    if (theta[THETA_BETA] < 1e-6) atBound.push("beta ≈ 0");
    if (rs.model === "gjr" && theta[THETA_GAMMA] < 1e-6) atBound.push("gamma ≈ 0 (no leverage effect: use GARCH)");
  }
  if (rs.dist === "t" && (theta[THETA_NU] < NU_MIN + 1e-3 || theta[THETA_NU] > NU_MAX - 1)) atBound.push(`nu = ${theta[THETA_NU].toFixed(2)} at its bound (${NU_MIN}, ${NU_MAX})`);
  if (rs.estimateLambda && (theta[THETA_BETA] < LAMBDA_MIN + 1e-4 || theta[THETA_BETA] > LAMBDA_MAX - 1e-6)) atBound.push(`lambda = ${theta[THETA_BETA]} at its bound`);
  if (atBound.length > 0) {
    warnings.push({ code: "PARAMETER_AT_BOUND", message: `${atBound.join("; ")}; standard errors of parameters at a bound are not reliable` });
  }

  return Object.freeze({
    spec: rs,
    params,
    estimated: Object.freeze([...layout.names]),
    stdErrors: seFrom(covRobust),
    stdErrorsHessian: seFrom(covHessian),
    stdErrorType: "robust" as const,
    covariance: covariance ? Object.freeze(covariance) : undefined,
    logLikelihood: logLik,
    aic: -2 * logLik + 2 * kAll,
    bic: -2 * logLik + kAll * Math.log(n),
    n,
    converged,
    iterations,
    warnings: Object.freeze(warnings.map((w) => Object.freeze(w))),
    persistence,
    unconditionalVariance: persistence < 1 ? omega / (1 - persistence) : undefined,
    conditionalVariance: condVar,
    standardizedResiduals: std,
    lastResidual: tail[1] * scale,
    nextVariance: tail[0] * s2,
  });
}

/** Robust (sandwich) and Hessian covariances of the natural free parameters, unit-scale data. */
function covariances(
  layout: Layout, theta: Float64Array, x: Float64Array, dist: number, start: number, scores: Float64Array, n: number,
): { covRobust: number[][] | undefined; covHessian: number[][] | undefined } {
  const v0 = layout.thetaToNatural(theta);
  const k = v0.length;
  const th = new Float64Array(6);
  const g6 = new Float64Array(6);
  const gradAt = (v: Float64Array): Float64Array | undefined => {
    layout.naturalToTheta(v, th);
    const ll = logLikelihood(x, th, dist, start, { grad: g6, condVar: null, scores: null, tail: null });
    return Number.isFinite(ll) ? layout.naturalGrad(g6) : undefined;
  };
  const g0 = gradAt(v0) as Float64Array;
  const H: number[][] = Array.from({ length: k }, () => new Array(k).fill(0));
  for (let i = 0; i < k; i++) {
    const step = 1e-5 * Math.max(Math.abs(v0[i]), 1e-2);
    const up = Float64Array.from(v0); up[i] += step;
    const dn = Float64Array.from(v0); dn[i] -= step;
    const gu = gradAt(up), gd = gradAt(dn);
    for (let j = 0; j < k; j++) {
      H[j][i] = gu && gd ? (gu[j] - gd[j]) / (2 * step) : gu ? (gu[j] - g0[j]) / step : gd ? (g0[j] - gd[j]) / step : NaN;
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) { const a = 0.5 * (H[i][j] + H[j][i]); H[i][j] = a; H[j][i] = a; }
  const negH = H.map((row) => row.map((v) => -v));
  const info = invert(negH);
  if (!info) return { covRobust: undefined, covHessian: undefined };
  // J = Σ s_t s_tᵀ in natural free parameters.
  // Each natural parameter's score is THETA score `plus` minus THETA score `minus` (lambda = beta - alpha).
  const plus = layout.names.map((name) => (name === "lambda" ? THETA_BETA : THETA_INDEX[name]));
  const minus = layout.names.map((name) => (name === "lambda" ? THETA_ALPHA : -1));
  const J: number[][] = Array.from({ length: k }, () => new Array(k).fill(0));
  const s = new Float64Array(k);
  for (let t = 0; t < n; t++) {
    const o = t * 6;
    for (let i = 0; i < k; i++) s[i] = scores[o + plus[i]] - (minus[i] >= 0 ? scores[o + minus[i]] : 0);
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) J[i][j] += s[i] * s[j];
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) J[j][i] = J[i][j];
  const robust = matMul(matMul(info, J), info);
  const ok = (m: number[][]) => m.every((row, i) => row.every(Number.isFinite) && row[i] >= 0);
  return { covRobust: ok(robust) ? robust : undefined, covHessian: ok(info) ? info : undefined };
}
