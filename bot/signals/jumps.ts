// Jump detection in the spirit of Lee & Mykland (2008): a return is a jump when it exceeds `k`
// times the local volatility estimated by bipower variation over the `window` returns before it.
// Bipower variation ((pi/2) mean |r_j||r_(j-1)|) is robust to the jumps it is looking for.

export interface Jump {
  index: number;
  t: number;
  logReturn: number;
  /** |r| divided by the local (bipower) standard deviation. */
  z: number;
}

/**
 * Jumps among the returns into rows from..to, each tested against the `window` returns before it.
 * Rows with fewer than `window` earlier returns are not tested.
 */
export function detectJumps(t: Float64Array, close: Float64Array, from: number, to: number, window = 48, k = 4): Jump[] {
  const out: Jump[] = [];
  for (let i = Math.max(from, window + 2); i <= to; i++) {
    let bp = 0;
    for (let j = i - window; j < i; j++) {
      bp += Math.abs(Math.log(close[j] / close[j - 1])) * Math.abs(Math.log(close[j - 1] / close[j - 2]));
    }
    const sd = Math.sqrt((Math.PI / 2) * (bp / window));
    const r = Math.log(close[i] / close[i - 1]);
    if (sd > 0 && Math.abs(r) > k * sd) out.push({ index: i, t: t[i], logReturn: r, z: Math.abs(r) / sd });
  }
  return out;
}
