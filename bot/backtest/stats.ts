// Small numerical kernels the coverage tests need: log-gamma, the regularised incomplete gamma
// (chi-square tail), binomial probabilities, and a seeded PRNG. Pure, no dependencies.

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < 8; i++) a += LANCZOS[i] / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) (Numerical Recipes gser/gcf). */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lnPre = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let del = sum;
    let ap = a;
    for (let n = 0; n < 1000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPre));
  }
  const FPMIN = 1e-300;
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(lnPre) * h);
}

/** P(X > x) for X ~ chi-square with `df` degrees of freedom. */
export function chiSquareSf(x: number, df: number): number {
  if (!(x > 0)) return 1;
  return gammaQ(df / 2, x / 2);
}

/** ln P(X = k) for X ~ Binomial(n, p). */
export function binomialLogPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return Number.NEGATIVE_INFINITY;
  if (p === 0) return k === 0 ? 0 : Number.NEGATIVE_INFINITY;
  if (p === 1) return k === n ? 0 : Number.NEGATIVE_INFINITY;
  return lnGamma(n + 1) - lnGamma(k + 1) - lnGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** P(X <= k) for X ~ Binomial(n, p), summed in the direction of the smaller tail. */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  const mean = n * p;
  if (k <= mean) {
    let s = 0;
    for (let i = 0; i <= k; i++) s += Math.exp(binomialLogPmf(i, n, p));
    return Math.min(1, s);
  }
  let s = 0;
  for (let i = k + 1; i <= n; i++) {
    const term = Math.exp(binomialLogPmf(i, n, p));
    s += term;
    if (term < 1e-20 * s && i > mean) break;
  }
  return Math.max(0, 1 - s);
}

/**
 * Two-sided exact binomial p-value (the "minimum likelihood" rule of R's binom.test): the total
 * probability of all outcomes no more likely than the one observed.
 */
export function binomialTwoSidedPValue(x: number, n: number, p: number): number {
  const lx = binomialLogPmf(x, n, p);
  const tol = 1e-7;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const li = binomialLogPmf(i, n, p);
    if (li <= lx + tol) s += Math.exp(li);
  }
  return Math.min(1, s);
}

/** Seeded PRNG (mulberry32): deterministic uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** x * ln(y) with the convention 0 * ln(0) = 0 (likelihood terms with zero counts). */
export function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}
