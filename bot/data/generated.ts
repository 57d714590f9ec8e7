// The embedded default's market history when no real data is present: a seeded hourly GARCH-t
// path with a crash in its last month, so that `npm start` exercises calm, stress and recovery on
// any machine. Parameters are typical of crypto majors (about 75% annualised vol, α 0.08, β 0.90,
// ν 4), not fitted to any file.
import { simulateGarchSeries } from "../models/volatility/simulate.ts";
import type { PriceSeries } from "./normalise.ts";

export interface GeneratedSeriesOptions {
  seed?: number;
  hours?: number;
  startPrice?: number;
  /** Unix seconds of the first bar (aligned to the hour). */
  startTime?: number;
  /** Size of the crash (fraction) and its length in hours; it starts `crashFromEndHours` before the end. */
  crashFraction?: number;
  crashHours?: number;
  crashFromEndHours?: number;
}

export function generatedHourlySeries(options: GeneratedSeriesOptions = {}): PriceSeries {
  const hours = options.hours ?? 2 * 8_760;
  const seed = options.seed ?? 2_024;
  const annualVariance = 0.75 ** 2;
  const hourlyVariance = annualVariance / 8_760;
  const alpha = 0.08;
  const beta = 0.9;
  const returns = simulateGarchSeries({
    params: { mu: 0, omega: hourlyVariance * (1 - alpha - beta), alpha, beta, gamma: 0, nu: 4 },
    dist: "t",
    n: hours - 1,
    seed,
  });
  const crash = options.crashFraction ?? 0.35;
  const crashHours = options.crashHours ?? 18;
  const crashStart = hours - 1 - (options.crashFromEndHours ?? 24 * 20);
  const perHour = Math.log(1 - crash) / crashHours;
  const t0 = options.startTime ?? 1_672_531_200; // 2023-01-01T00:00Z
  const t = new Float64Array(hours);
  const close = new Float64Array(hours);
  let logPrice = Math.log(options.startPrice ?? 2_000);
  for (let i = 0; i < hours; i++) {
    if (i > 0) logPrice += returns[i - 1] + (i > crashStart && i <= crashStart + crashHours ? perHour : 0);
    t[i] = t0 + i * 3_600;
    close[i] = Math.exp(logPrice);
  }
  return {
    kind: "price",
    intervalSeconds: 3_600,
    barTime: "point",
    t,
    open: close,
    high: close,
    low: close,
    close,
    volume: new Float64Array(hours).fill(Number.NaN),
    line: new Float64Array(hours),
  };
}
