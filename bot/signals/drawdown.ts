// Drawdown over a time horizon ending at row `to`: the deepest peak-to-later-trough fall and the
// current fall from the window's peak, both as fractions (0.2 = 20% below the peak).

export interface Drawdown {
  horizonSeconds: number;
  /** Deepest fall from a running peak to a later close within the window. */
  max: number;
  /** Fall of the last close from the highest close in the window. */
  current: number;
  /** Time of the peak and trough of `max` (Unix seconds), NaN when there is no fall. */
  peakAt: number;
  troughAt: number;
}

/** Drawdown of `close` over rows with t in [t[to] - horizon, t[to]] (the close one horizon back is the start). */
export function drawdownOver(t: Float64Array, close: Float64Array, to: number, horizonSeconds: number): Drawdown {
  const start = t[to] - horizonSeconds;
  let i = to;
  while (i > 0 && t[i - 1] >= start) i--;
  let peak = -Infinity, peakAt = NaN, maxDd = 0, ddPeakAt = NaN, ddTroughAt = NaN;
  for (let k = i; k <= to; k++) {
    if (close[k] > peak) { peak = close[k]; peakAt = t[k]; }
    const dd = 1 - close[k] / peak;
    if (dd > maxDd) { maxDd = dd; ddPeakAt = peakAt; ddTroughAt = t[k]; }
  }
  return { horizonSeconds, max: maxDd, current: 1 - close[to] / peak, peakAt: ddPeakAt, troughAt: ddTroughAt };
}
