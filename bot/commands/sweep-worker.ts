// Worker thread of `riskkeeper sweep`: receives the price series and its share of the grid
// points, runs them (bot/backtest/sweep.ts), and posts each outcome back as it finishes.
import { parentPort, workerData } from "node:worker_threads";
import { runSweepPoints, type SweepPoint } from "../backtest/sweep.ts";
import type { PriceSeries } from "../backtest/walk-forward.ts";

interface Job { series: PriceSeries; points: SweepPoint[] }

if (parentPort) {
  const port = parentPort;
  const { series, points } = workerData as Job;
  try {
    runSweepPoints(series, points, (outcome) => port.postMessage({ type: "outcome", outcome }));
    port.postMessage({ type: "done" });
  } catch (error) {
    port.postMessage({ type: "error", message: error instanceof Error ? error.stack ?? error.message : String(error) });
  }
}
