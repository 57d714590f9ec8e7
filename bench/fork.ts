// Fork-gate benchmark (`npm run bench:fork`):
//   1. one validation of three 720-round scenarios with 200 positions (both parameter sets), on
//      the embedded chain: wall time, median of RUNS;
//   2. the cost of one replayed round (publish a feed round in its own block + the liquidator's
//      check) against one plain transaction on the same chain, measured in the same run.
// Scenarios: the worst two 24 h drawdowns and the worst rally of ETH hourly from ../shared/data
// when present, else three seeded synthetic crashes.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openForkSession, syntheticCrash, validateProposal, worstWindows, type Scenario } from "../bot/fork/index.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dataFile = [process.env.RISKKEEPER_SHARED_DATA, path.resolve(root, "..", "shared", "data"), "/work/shared/data"]
  .filter((d): d is string => !!d)
  .map((d) => path.join(d, "binance-spot-1h", "ETHUSDT_1h.csv"))
  .find((f) => existsSync(f));

let scenarios: Scenario[];
if (dataFile) {
  const { loadPrices } = await import("../bot/data/prices.ts");
  const { series } = await loadPrices(dataFile);
  scenarios = [
    ...worstWindows(series.t, series.close, { windowSteps: 720, horizonSteps: 24, k: 2, direction: "down" }),
    ...worstWindows(series.t, series.close, { windowSteps: 720, horizonSteps: 24, k: 1, direction: "up" }),
  ];
} else {
  scenarios = [1, 2, 3].map((seed) => syntheticCrash({ seed, steps: 720 }));
}
console.log(`scenarios (${dataFile ? "ETHUSDT 1h" : "synthetic"}): ${scenarios.map((s) => `${s.name} [${s.rounds.length} rounds]`).join("; ")}`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[]) => `min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}`;

const session = await openForkSession();
await session.connection.networkHelpers.time.increase(3_600);
const change = [{ parameter: "initialMarginBps" as const, value: 1_200n }, { parameter: "maintenanceMarginBps" as const, value: 600n }];
const times: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  const report = await validateProposal(session, change, { scenarios, population: { count: 200, seed: 1 } });
  times.push((performance.now() - t) / 1_000);
  if (r === 0) console.log(`verdict ${report.verdict}; liquidations current/proposed: ${report.diff.map((d) => d.liquidations.join("/")).join(", ")}`);
}
console.log(`validation, 3 x ${scenarios[0].rounds.length} rounds x 200 positions x 2 parameter sets: median ${median(times).toFixed(2)} s (${spread(times)}, ${RUNS} runs)`);

// Round vs plain transaction, interleaved in blocks of 50 so drift hits both alike.
const [sender] = await session.connection.ethers.getSigners();
const replay = syntheticCrash({ seed: 9, steps: 1_000, crashFraction: 0.01, crashSteps: 10 });
const { firstIndex, startTimestamp, answers } = await session.feedDriver.load(replay);
const watch = await session.adapter.watchList(await session.adapter.readMarginParams());
const roundMs: number[] = [];
const txMs: number[] = [];
let index = 0;
for (let block = 0; block < 10; block++) {
  let t = performance.now();
  for (let i = 0; i < 50; i++, index++) {
    await session.feedDriver.publish(firstIndex + BigInt(index), startTimestamp + BigInt(replay.rounds[index].t - replay.rounds[0].t));
    const price = Number(answers[index]);
    for (const w of watch) if (w.isLong ? price <= w.liquidationPrice : price >= w.liquidationPrice) await session.adapter.isLiquidatable(w.id);
  }
  roundMs.push((performance.now() - t) / 50);
  t = performance.now();
  for (let i = 0; i < 50; i++) await (await sender.sendTransaction({ to: sender.address, value: 1n })).wait();
  txMs.push((performance.now() - t) / 50);
}
const ratios = roundMs.map((r, i) => r / txMs[i]);
console.log(`replayed round: median ${median(roundMs).toFixed(2)} ms (${spread(roundMs)}); plain transaction: median ${median(txMs).toFixed(2)} ms (${spread(txMs)})`);
console.log(`round / plain transaction: median ${median(ratios).toFixed(2)}x (${spread(ratios)}, 10 blocks of 50)`);
await session.close();
