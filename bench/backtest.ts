// bench:backtest — one full walk-forward (ETH hourly 2018-2024, daily recalibration) repeated,
// and a 100-policy sweep on 2 worker threads. Prints medians with the spread (min..max).
// Run: npm run bench:backtest   (reads ../shared/data in place; RISKKEEPER_SHARED_DATA overrides)
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { validatePolicy } from "../bot/backtest/policy.ts";
import { expandGrid } from "../bot/backtest/sweep.ts";
import { calibrate, runWalkForward, simulate } from "../bot/backtest/walk-forward.ts";
import { createBufferModel } from "../bot/backtest/model.ts";
import { loadSeries } from "../bot/commands/backtest-input.ts";
import { runSweepParallel } from "../bot/commands/sweep.ts";
import { sharedDataPath } from "../test/support/shared-data.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const file = sharedDataPath("binance-spot-1h/ETHUSDT_1h.csv");
if (!file) {
  console.error("bench:backtest: ../shared/data/binance-spot-1h/ETHUSDT_1h.csv not found (set RISKKEEPER_SHARED_DATA)");
  process.exit(1);
}
const repeats = Number(process.env.BENCH_REPEATS ?? 5);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return `median ${(med / 1000).toFixed(2)} s (min ${(s[0] / 1000).toFixed(2)} .. max ${(s[s.length - 1] / 1000).toFixed(2)}, n=${s.length})`;
}

const basePolicy = JSON.parse(readFileSync(path.join(root, "policies", "default-1h.json"), "utf8"));
const policy = validatePolicy(basePolicy, "default-1h.json");
let t = performance.now();
const series = await loadSeries(file);
console.log(`data: ${path.basename(file)}, ${series.close.length} hourly closes (gaps forward-filled), loaded in ${((performance.now() - t) / 1000).toFixed(2)} s`);

const full: number[] = [];
const cal: number[] = [];
const sim: number[] = [];
let summary = "";
for (let i = 0; i < repeats; i++) {
  t = performance.now();
  const r = runWalkForward(series, policy, { z2Simulations: 1000 });
  full.push(performance.now() - t);
  summary = `${r.refits.length} recalibrations, ${r.windows.count} windows, ${r.observations} observations`;
  const model = createBufferModel(policy.modelSpec);
  t = performance.now();
  const c = calibrate(series, policy, model);
  cal.push(performance.now() - t);
  t = performance.now();
  simulate(series, policy, c, model.name, { z2Simulations: 1000 });
  sim.push(performance.now() - t);
}
console.log(`walk-forward (default-1h, ${summary}):`);
console.log(`  full run (calibrate + rule + 3 strategies + Z2 1000 sims): ${stats(full)}`);
console.log(`  calibrate only: ${stats(cal)}; rule + scoring only: ${stats(sim)}`);

const grid = {
  grid: {
    "rule.maxStep": [50, 100, 150, 250, 400],
    "rule.deadBand": [0, 25, 50, 100, 200],
    model: [{ name: "fhs-ewma", decayPerDay: 0.94 }, { name: "fhs-ewma", decayPerDay: 0.97 }, { name: "fhs-ewma", decayPerDay: 0.9 }, { name: "hs" }],
  },
};
const points = expandGrid(basePolicy, grid, "bench-grid");
const sweeps: number[] = [];
const sweepRepeats = Math.max(1, Math.min(3, repeats));
for (let i = 0; i < sweepRepeats; i++) {
  t = performance.now();
  const out = await runSweepParallel(series, points, 2);
  sweeps.push(performance.now() - t);
  if (out.length !== points.length) throw new Error("sweep lost points");
}
console.log(`sweep of ${points.length} policies (4 model settings x 25 rule settings) on 2 worker threads: ${stats(sweeps)}`);
