// Unconstrained minimisers. `bfgs` (quasi-Newton with an analytic gradient) is the fast path used by
// the fits; `nelderMead` (derivative-free simplex) is the slow, simple one used by the reference
// implementations that the tests check the fast code against.

export interface MinimizeResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** Why the loop stopped: "gradient", "no-progress", "max-iterations" or "line-search". */
  reason: string;
}

/** f(x) that also writes ∇f(x) into `grad`. Returns +Infinity (or NaN) outside the domain. */
export type ValueAndGradient = (x: Float64Array, grad: Float64Array) => number;

export interface BfgsOptions {
  /** Stop when max |∇f| falls below this. */
  gradientTolerance?: number;
  maxIterations?: number;
}

/** BFGS on the inverse Hessian with an Armijo backtracking line search (cubic-free, robust). */
export function bfgs(fg: ValueAndGradient, x0: Float64Array, options: BfgsOptions = {}): MinimizeResult {
  const gtol = options.gradientTolerance ?? 1e-8;
  const maxIter = options.maxIterations ?? 200;
  const k = x0.length;
  const x = Float64Array.from(x0);
  const g = new Float64Array(k);
  let f = fg(x, g);
  let evaluations = 1;
  if (!Number.isFinite(f)) return { x, f, iterations: 0, evaluations, converged: false, reason: "line-search" };
  const H = new Float64Array(k * k);
  for (let i = 0; i < k; i++) H[i * k + i] = 1;
  const d = new Float64Array(k), xn = new Float64Array(k), gn = new Float64Array(k);
  const s = new Float64Array(k), y = new Float64Array(k), Hy = new Float64Array(k);
  let firstUpdate = true;
  let stall = 0;
  let reason = "max-iterations";
  let iter = 0;
  for (; iter < maxIter; iter++) {
    let gmax = 0;
    for (let i = 0; i < k; i++) gmax = Math.max(gmax, Math.abs(g[i]));
    if (gmax < gtol) { reason = "gradient"; break; }
    let slope = 0;
    for (let i = 0; i < k; i++) {
      let v = 0;
      for (let j = 0; j < k; j++) v -= H[i * k + j] * g[j];
      d[i] = v;
      slope += v * g[i];
    }
    if (!(slope < 0)) {
      // Not a descent direction: reset to steepest descent.
      H.fill(0);
      for (let i = 0; i < k; i++) { H[i * k + i] = 1; d[i] = -g[i]; }
      slope = 0;
      for (let i = 0; i < k; i++) slope -= g[i] * g[i];
      firstUpdate = true;
    }
    let step = 1;
    // Keep the first trial step modest in size (the parameters live on log/logit scales).
    let dmax = 0;
    for (let i = 0; i < k; i++) dmax = Math.max(dmax, Math.abs(d[i]));
    if (dmax * step > 5) step = 5 / dmax;
    let fn = Infinity;
    let accepted = false;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < k; i++) xn[i] = x[i] + step * d[i];
      fn = fg(xn, gn);
      evaluations++;
      if (Number.isFinite(fn) && fn <= f + 1e-4 * step * slope) { accepted = true; break; }
      // Quadratic interpolation of the step, safeguarded to [0.1, 0.5] of the current one.
      let next = 0.5 * step;
      if (Number.isFinite(fn)) {
        const q = (-slope * step * step) / (2 * (fn - f - slope * step));
        if (Number.isFinite(q)) next = Math.min(0.5 * step, Math.max(0.1 * step, q));
      }
      step = next;
    }
    if (!accepted) { reason = "line-search"; break; }
    let sy = 0, yHy = 0, yy = 0;
    for (let i = 0; i < k; i++) { s[i] = xn[i] - x[i]; y[i] = gn[i] - g[i]; sy += s[i] * y[i]; yy += y[i] * y[i]; }
    const df = f - fn;
    x.set(xn); g.set(gn); f = fn;
    if (df <= 1e-15 * Math.max(1, Math.abs(f))) {
      if (++stall >= 3) { reason = "no-progress"; iter++; break; }
    } else stall = 0;
    if (sy <= 1e-12 * Math.sqrt(yy) * Math.sqrt(s.reduce((a, v) => a + v * v, 0))) continue;
    if (firstUpdate) {
      const scale = sy / yy;
      H.fill(0);
      for (let i = 0; i < k; i++) H[i * k + i] = scale;
      firstUpdate = false;
    }
    for (let i = 0; i < k; i++) {
      let v = 0;
      for (let j = 0; j < k; j++) v += H[i * k + j] * y[j];
      Hy[i] = v;
      yHy += y[i] * v;
    }
    const rho = 1 / sy;
    const c = (1 + rho * yHy) * rho;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        H[i * k + j] += c * s[i] * s[j] - rho * (Hy[i] * s[j] + s[i] * Hy[j]);
      }
    }
  }
  let gmax = 0;
  for (let i = 0; i < k; i++) gmax = Math.max(gmax, Math.abs(g[i]));
  // "no-progress" with a small gradient is a converged fit at machine precision.
  const converged = gmax < gtol || (reason === "no-progress" && gmax < Math.sqrt(gtol));
  return { x, f, iterations: iter, evaluations, converged, reason: gmax < gtol ? "gradient" : reason };
}

export interface NelderMeadOptions {
  maxEvaluations?: number;
  /** Stop when the simplex's function values differ by less than this. */
  tolerance?: number;
  /** Initial simplex edge per coordinate (defaults to 10% of |x0| or 0.05). */
  initialStep?: readonly number[];
  restarts?: number;
}

/** Nelder–Mead simplex with restarts (plain arrays, deliberately simple). */
export function nelderMead(f: (x: number[]) => number, x0: readonly number[], options: NelderMeadOptions = {}): { x: number[]; f: number; evaluations: number } {
  const maxEval = options.maxEvaluations ?? 20000;
  const tol = options.tolerance ?? 1e-10;
  let best = [...x0];
  let fbest = f(best);
  let evaluations = 1;
  for (let restart = 0; restart <= (options.restarts ?? 2); restart++) {
    const n = best.length;
    const pts: number[][] = [best];
    for (let i = 0; i < n; i++) {
      const p = [...best];
      const step = options.initialStep?.[i] ?? (p[i] !== 0 ? 0.1 * Math.abs(p[i]) : 0.05);
      p[i] += restart === 0 ? step : step / (restart * 4);
      pts.push(p);
    }
    let vals = pts.map((p) => f(p));
    evaluations += n;
    while (evaluations < maxEval) {
      const order = vals.map((v, i) => i).sort((a, b) => vals[a] - vals[b]);
      const P = order.map((i) => pts[i]);
      vals = order.map((i) => vals[i]);
      pts.splice(0, pts.length, ...P);
      if (Math.abs(vals[n] - vals[0]) <= tol * (Math.abs(vals[0]) + 1e-12)) break;
      const centroid = new Array(n).fill(0);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j] += pts[i][j] / n;
      const at = (t: number) => centroid.map((c, j) => c + t * (pts[n][j] - c));
      const xr = at(-1);
      const fr = f(xr); evaluations++;
      if (fr < vals[0]) {
        const xe = at(-2);
        const fe = f(xe); evaluations++;
        if (fe < fr) { pts[n] = xe; vals[n] = fe; } else { pts[n] = xr; vals[n] = fr; }
      } else if (fr < vals[n - 1]) {
        pts[n] = xr; vals[n] = fr;
      } else {
        const xc = fr < vals[n] ? at(-0.5) : at(0.5);
        const fc = f(xc); evaluations++;
        if (fc < Math.min(fr, vals[n])) { pts[n] = xc; vals[n] = fc; } else {
          for (let i = 1; i <= n; i++) {
            pts[i] = pts[i].map((v, j) => pts[0][j] + 0.5 * (v - pts[0][j]));
            vals[i] = f(pts[i]); evaluations++;
          }
        }
      }
    }
    const iBest = vals.indexOf(Math.min(...vals));
    if (vals[iBest] <= fbest) { fbest = vals[iBest]; best = pts[iBest]; }
  }
  return { x: best, f: fbest, evaluations };
}
