// Seeded pseudo-random numbers for the models. bot/models never calls Math.random: every
// simulation takes a seed, so a run is reproducible bit for bit.
// Generator: xoshiro128** (Blackman & Vigna), state seeded by splitmix32 from one integer seed.

export interface Rng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform double in the open interval (0, 1), 53 random bits. */
  uniform(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Marsaglia polar method). */
  normal(): number;
  /** Gamma(shape, 1) (Marsaglia & Tsang). */
  gamma(shape: number): number;
  /** Student-t with `nu` degrees of freedom, rescaled to unit variance (needs nu > 2). */
  standardizedT(nu: number): number;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Creates a generator from an integer seed (any finite number; its low 32 bits and high bits are mixed). */
export function createRng(seed: number): Rng {
  if (!Number.isFinite(seed)) throw new RangeError(`seed must be finite, got ${seed}`);
  let sm = (Math.floor(seed) ^ Math.floor(seed / 4294967296)) | 0;
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) | 0;
    let t = sm ^ (sm >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
  let s0 = splitmix(), s1 = splitmix(), s2 = splitmix(), s3 = splitmix();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11);
    return result;
  };
  const uniform = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6) + 0.5) / 9007199254740992;
  let spare = 0;
  let hasSpare = false;
  const normal = (): number => {
    if (hasSpare) { hasSpare = false; return spare; }
    let u = 0, v = 0, s = 0;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * f;
    hasSpare = true;
    return u * f;
  };
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * Math.pow(uniform(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x = 0, v = 0;
      do { x = normal(); v = 1 + c * x; } while (v <= 0);
      v = v * v * v;
      const u = uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  return {
    nextUint32,
    uniform,
    int: (n) => Math.floor(uniform() * n),
    normal,
    gamma,
    standardizedT(nu) {
      const chi2 = 2 * gamma(nu / 2);
      return normal() * Math.sqrt((nu - 2) / chi2);
    },
  };
}
