// Gas congestion: the current base fee (or daily average gas price) against the distribution of
// the same quantity over a trailing window.

export interface GasCongestion {
  current: number;
  /** Values in the window, including the current one. */
  samples: number;
  /** Fraction of the other window values strictly below the current one (0..1; 1 = a new window high). */
  percentileRank: number;
  /** The window's `percentile` quantile (linear interpolation) and current / that quantile. */
  quantile: number;
  quantileLevel: number;
  ratio: number;
}

/** Linear-interpolated quantile (type 7, as R and numpy default) of an unsorted sample. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return NaN;
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
}

/** Congestion of values[to] against values[from..to]. */
export function gasCongestion(values: ArrayLike<number>, from: number, to: number, level = 0.9): GasCongestion {
  const current = values[to];
  const window: number[] = [];
  let below = 0;
  for (let i = from; i <= to; i++) {
    window.push(values[i]);
    if (values[i] < current) below++;
  }
  const q = quantile(window, level);
  return { current, samples: window.length, percentileRank: window.length > 1 ? below / (window.length - 1) : 0, quantile: q, quantileLevel: level, ratio: current / q };
}
