// Benchmark of the calibration models: `npm run bench:models`.
// Times, in one process after a warm-up, (1) one GARCH(1,1)-t fit on 2,000 returns and (2) one
// FHS 99% ES (GARCH(1,1)-t fit + 10,000 bootstrap paths over 24 h) on 5 years of hourly ETH returns.
// Prints median, min and max. No assertions: speed lives here, never in tests.
import { readFileSync } from "node:fs";
import { fhsVarEs, fitGarch, simulateGarchSeries } from "../bot/models/index.ts";
import { sharedDataPath } from "../test/support/shared-data.ts";

function time(label: string, reps: number, warmup: number, fn: () => unknown): void {
  for (let i = 0; i < warmup; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const med = ms[Math.floor(ms.length / 2)];
  const p10 = ms[Math.floor(ms.length * 0.1)], p90 = ms[Math.floor(ms.length * 0.9)];
  console.log(`${label.padEnd(58)} median ${med.toFixed(2)} ms   min ${ms[0].toFixed(2)}   p10 ${p10.toFixed(2)}   p90 ${p90.toFixed(2)}   max ${ms[ms.length - 1].toFixed(2)}   (n=${reps})`);
}

const sim = simulateGarchSeries({ params: { mu: 0, omega: 2e-6, alpha: 0.1, gamma: 0, beta: 0.87, nu: 5 }, dist: "t", n: 2000, seed: 1 });
time("GARCH(1,1)-t fit, 2,000 simulated returns", 300, 30, () => fitGarch(sim, { model: "garch", dist: "t" }));
time("GARCH(1,1)-normal fit, 2,000 simulated returns", 300, 30, () => fitGarch(sim, { model: "garch" }));
time("GJR-GARCH(1,1)-t fit, 2,000 simulated returns", 300, 30, () => fitGarch(sim, { model: "gjr", dist: "t" }));

const file = sharedDataPath("binance-spot-1h/ETHUSDT_1h.csv");
if (file) {
  const lines = readFileSync(file, "utf8").trim().split("\n");
  const iC = lines[0].split(",").indexOf("close");
  const closes = lines.slice(1).map((l) => Number(l.split(",")[iC]));
  const r: number[] = [];
  for (let i = 1; i < closes.length; i++) r.push(Math.log(closes[i] / closes[i - 1]));
  const last2000 = r.slice(-2000);
  time("GARCH(1,1)-t fit, last 2,000 ETH hourly returns", 300, 30, () => fitGarch(last2000, { model: "garch", dist: "t" }));
  const fiveYears = r.slice(-5 * 8760);
  time(`FHS 99% ES 24h (fit + 10k paths), ${fiveYears.length} ETH hourly`, 20, 3, () => fhsVarEs({ returns: fiveYears, confidence: 0.99, horizonPeriods: 24, paths: 10_000, seed: 1 }));
  const fit = fitGarch(fiveYears, { model: "garch", dist: "t" });
  time("  of which FHS only (fit reused), 10k paths x 24 steps", 50, 5, () => fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 24, paths: 10_000, seed: 1 }));
  time("  of which FHS one-period exact (fit reused)", 50, 5, () => fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 1 }));
} else {
  console.log("(ETH data not found: set RISKKEEPER_SHARED_DATA to run the FHS benchmark)");
}
