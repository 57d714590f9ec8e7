// Seeded synthetic hourly prices for backtest tests: log-normal steps whose volatility switches
// between a calm and a stressed regime, so that rules, floors and stress all have work to do.
import { mulberry32 } from "../../bot/backtest/stats.ts";
import type { PriceSeries } from "../../bot/backtest/walk-forward.ts";

export function gaussian(rand: () => number): () => number {
  return () => {
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** `n` hourly closes from t0; hourly vol `calm`, `stressed` inside the [start, end) index ranges. */
export function syntheticSeries(n: number, seed: number, opts: { calm?: number; stressed?: number; regimes?: [number, number][] } = {}): PriceSeries {
  const rand = mulberry32(seed);
  const z = gaussian(rand);
  const calm = opts.calm ?? 0.006;
  const stressed = opts.stressed ?? 0.02;
  const regimes = opts.regimes ?? [];
  const time = new Float64Array(n);
  const close = new Float64Array(n);
  let p = 1000;
  for (let i = 0; i < n; i++) {
    const vol = regimes.some(([a, b]) => i >= a && i < b) ? stressed : calm;
    if (i > 0) p *= Math.exp(vol * z() - 0.5 * vol * vol);
    time[i] = 1_600_000_000 - (1_600_000_000 % 3600) + i * 3600;
    close[i] = p;
  }
  // The same closes as bot/data would load them (a price-only series), for the bot/signals snapshot.
  const raw = {
    kind: "price" as const, intervalSeconds: 3600, barTime: "point" as const, t: time, open: close, high: close, low: close, close,
    volume: new Float64Array(n).fill(Number.NaN), line: Float64Array.from({ length: n }, (_, i) => i + 2),
  };
  return { time, close, intervalSeconds: 3600, raw };
}
