// Keeper latency benchmark (`npm run bench:keeper`): on the embedded chain, the wall time from the
// oracle round that raises the stress level to the confirmed update (watch → calibration → rule →
// backtest gate → fork gate → submission → confirmation), median over several runs.
// History: the generated series (a seeded crash), so the figure does not depend on data files.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generatedHourlySeries } from "../bot/data/generated.ts";
import { validatePolicy } from "../bot/backtest/policy.ts";
import { runEmbedded } from "../bot/keeper/embedded.ts";
import { SimulatedClock } from "../bot/keeper/clock.ts";
import { createKeeperLogger } from "../bot/keeper/log.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const policyFile = path.join(root, "policies", "default-1h.json");
const policy = validatePolicy(JSON.parse(readFileSync(policyFile, "utf8")), policyFile);
const series = generatedHourlySeries();
const crashStart = series.t[series.t.length - 1 - 20 * 24];

const latencies: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const from = crashStart - 12 * 3_600;
  const clock = new SimulatedClock(from * 1000);
  const log = createKeeperLogger({ level: "error", clock, terminal: false });
  let lastRoundWall = 0;
  let measured: number | undefined;
  await runEmbedded({
    series, source: "generated", policy, from, to: crashStart + 24 * 3_600, positions: 20, seed: run + 1,
    stateDir: path.join(root, ".riskkeeper", `bench-keeper-${run}`), logger: log.logger, clock,
    onEvent: (e) => {
      if (e.kind === "round") lastRoundWall = performance.now();
      if (e.kind === "run" && e.result.outcome === "confirmed" && measured === undefined) measured = performance.now() - lastRoundWall;
    },
  });
  await log.close();
  if (measured === undefined) throw new Error(`run ${run}: no confirmed update`);
  latencies.push(measured / 1000);
  console.log(`run ${run + 1}: ${(measured / 1000).toFixed(2)} s from the round that raised stress to the confirmed update`);
}
const sorted = [...latencies].sort((a, b) => a - b);
console.log(`latency round → confirmed update: median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s (min ${sorted[0].toFixed(2)}, max ${sorted[sorted.length - 1].toFixed(2)}, ${RUNS} runs)`);
