// Slow, plain reference implementation of the same likelihoods (number[] and for-loops, no
// gradient, no reparametrisation) fitted by Nelder–Mead with constraint penalties. It exists only so
// the tests can check the fast kernel and BFGS fit against something written independently.
import { logGamma } from "../common/special.ts";
import { nelderMead } from "../common/optimize.ts";

export interface ReferenceParams {
  mu: number; omega: number; alpha: number; gamma: number; beta: number; nu: number;
}

/** Log-likelihood computed term by term: h_0 = omega + (alpha + gamma/2 + beta)·mean(e²). */
export function referenceLogLikelihood(returns: readonly number[], p: ReferenceParams, dist: "normal" | "t"): number {
  const e = returns.map((r) => r - p.mu);
  const backcast = e.reduce((s, v) => s + v * v, 0) / e.length;
  let hPrev = backcast;
  let ePrev2 = backcast;
  let negPrev = 0.5; // the pre-sample shock is negative "half the time"
  let total = 0;
  for (let t = 0; t < e.length; t++) {
    const h = p.omega + (p.alpha + p.gamma * negPrev) * ePrev2 + p.beta * hPrev;
    if (!(h > 0)) return -Infinity;
    if (dist === "normal") {
      total += -0.5 * Math.log(2 * Math.PI) - 0.5 * Math.log(h) - (e[t] * e[t]) / (2 * h);
    } else {
      const nu = p.nu;
      total += logGamma((nu + 1) / 2) - logGamma(nu / 2) - 0.5 * Math.log(Math.PI * (nu - 2) * h)
        - ((nu + 1) / 2) * Math.log(1 + (e[t] * e[t]) / ((nu - 2) * h));
    }
    hPrev = h;
    ePrev2 = e[t] * e[t];
    negPrev = e[t] < 0 ? 1 : 0;
  }
  return total;
}

/** Nelder–Mead on natural parameters, infeasible points rejected with +Infinity. */
export function referenceFit(
  returns: readonly number[], model: "garch" | "gjr", dist: "normal" | "t", start?: Partial<ReferenceParams>,
): { params: ReferenceParams; logLikelihood: number } {
  const m = returns.reduce((s, v) => s + v, 0) / returns.length;
  const v = returns.reduce((s, r) => s + (r - m) * (r - m), 0) / returns.length;
  const names: (keyof ReferenceParams)[] = ["mu", "omega", "alpha", "beta"];
  if (model === "gjr") names.push("gamma");
  if (dist === "t") names.push("nu");
  const init: ReferenceParams = { mu: m, omega: 0.05 * v, alpha: 0.08, gamma: model === "gjr" ? 0.04 : 0, beta: 0.88, nu: 8, ...start };
  const unpack = (x: number[]): ReferenceParams => {
    const p = { ...init, gamma: 0 };
    names.forEach((name, i) => { p[name] = x[i]; });
    return p;
  };
  const objective = (x: number[]): number => {
    const p = unpack(x);
    if (p.omega <= 0 || p.alpha < 0 || p.beta < 0 || p.gamma < 0 || p.alpha + p.beta + p.gamma / 2 >= 1) return Infinity;
    if (dist === "t" && p.nu <= 2.05) return Infinity;
    return -referenceLogLikelihood(returns, p, dist);
  };
  const res = nelderMead(objective, names.map((name) => init[name]), { maxEvaluations: 40000, tolerance: 1e-13, restarts: 3 });
  return { params: unpack(res.x), logLikelihood: -res.f };
}
