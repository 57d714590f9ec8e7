// `riskkeeper sweep`: a grid over rule bounds and model choices, spread over worker threads,
// ranked by coverage then cost, with where each point breaks.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { calibrationKey, expandGrid, partitionPoints, rankOutcomes, runSweepPoints, type SweepGrid, type SweepOutcome, type SweepPoint } from "../backtest/sweep.ts";
import { validatePolicy } from "../backtest/policy.ts";
import type { PriceSeries } from "../backtest/walk-forward.ts";
import type { Command } from "./types.ts";
import { parseCommandArgs } from "./args.ts";
import { defaultPolicyFile, loadSeries, POLICIES_DIR, readJson } from "./backtest-input.ts";

const USAGE = `riskkeeper sweep --input FILE --grid GRID.json [--workers N] [--resample 1d] [--json] [--top N]

  --grid FILE    { "base": "default-1h.json" (optional; a path relative to the grid file or policies/),
                   "grid": { "rule.maxStep": [100, 150, 250], "model": [{ "name": "hs" }, { "name": "fhs-ewma" }] } }
                 Every combination of the listed values (dotted policy keys) is one point.
  --workers N    worker threads (default: available cores, at most the number of points).
  --top N        rows of the ranked table to print (default 20; --json prints all).`;

/** Runs the points on `workers` threads (in this thread when workers <= 1). */
export async function runSweepParallel(series: PriceSeries, points: SweepPoint[], workers: number, onDone?: (done: number, total: number) => void): Promise<SweepOutcome[]> {
  const keyOf = (p: SweepPoint): string => {
    try { return calibrationKey(validatePolicy(p.policy)); } catch { return "invalid"; }
  };
  let done = 0;
  const tick = () => onDone?.(++done, points.length);
  if (workers <= 1) return runSweepPoints(series, points, tick);
  const shares = partitionPoints(points, workers, keyOf);
  const outcomes: SweepOutcome[] = [];
  await Promise.all(shares.map((share) => new Promise<void>((resolve, reject) => {
    const w = new Worker(new URL("./sweep-worker.ts", import.meta.url), { workerData: { series, points: share } });
    w.on("message", (m: { type: string; outcome?: SweepOutcome; message?: string }) => {
      if (m.type === "outcome") { outcomes.push(m.outcome!); tick(); }
      else if (m.type === "error") reject(new Error(`sweep worker failed: ${m.message}`));
    });
    w.on("error", reject);
    w.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`sweep worker exited with ${code}`))));
  })));
  return outcomes.sort((a, b) => a.index - b.index);
}

function fmtParams(p: Record<string, unknown>): string {
  return Object.entries(p).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join(" ");
}

export const command: Command = {
  summary: "grid of backtest policies (rule bounds, models) on worker threads, ranked by coverage then cost",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCommandArgs("sweep", argv, {
      input: { type: "string" }, grid: { type: "string" }, workers: { type: "string" }, resample: { type: "string" },
      top: { type: "string" }, json: { type: "boolean", default: false },
    });
    const input = args.required("input", "FILE");
    const gridFile = args.required("grid", "GRID.json");
    const workersArg = args.integer("workers", { min: 1 }) ?? availableParallelism();
    const top = args.integer("top", { min: 0, default: 20 });
    const grid = readJson(gridFile) as SweepGrid & { base?: string };
    const series = await loadSeries(input, args.values.resample);
    let baseFile: string;
    if (typeof grid.base === "string") {
      const near = path.resolve(path.dirname(gridFile), grid.base);
      baseFile = existsSync(near) ? near : path.join(POLICIES_DIR, grid.base);
    } else baseFile = defaultPolicyFile(series.intervalSeconds);
    const base = readJson(baseFile);
    validatePolicy(base, baseFile);
    const points = expandGrid(base, grid, gridFile);
    const workers = Math.min(workersArg, points.length);
    const tty = process.stderr.isTTY;
    const started = performance.now();
    const outcomes = await runSweepParallel(series, points, workers, tty ? (d, n) => process.stderr.write(`\rsweep ${d}/${n}${d === n ? "\n" : ""}`) : undefined);
    const ranked = rankOutcomes(outcomes);
    const seconds = (performance.now() - started) / 1000;
    if (args.values.json) {
      io.stdout(JSON.stringify({ base: baseFile, points: points.length, workers, seconds, ranked }, null, 1));
      return 0;
    }
    const lines = [`${points.length} points on ${workers} worker(s) in ${seconds.toFixed(1)} s; base ${path.basename(baseFile)}; ranked by coverage, then mean buffer`];
    lines.push(`${"rank".padStart(4)} ${"#".padStart(4)} ${"breach%".padStart(8)} ${"kupiec".padStart(7)} ${"chr-cc".padStart(7)} ${"zone".padStart(6)} ${"mean".padStart(6)} ${"static".padStart(6)} ${"rise5d".padStart(7)}  params | breaks`);
    ranked.slice(0, top).forEach((o, i) => {
      const n = (x: number | undefined, d: number) => (x === undefined ? "-" : x.toFixed(d));
      lines.push(`${String(i + 1).padStart(4)} ${String(o.index).padStart(4)} ${n(o.breachRate === undefined ? undefined : 100 * o.breachRate, 2).padStart(8)} ${n(o.kupiecPValue, 3).padStart(7)} ${n(o.christoffersenPValue, 3).padStart(7)} ${(o.zone ?? "-").padStart(6)} ${n(o.meanBufferBps, 0).padStart(6)} ${n(o.staticBufferBps, 0).padStart(6)} ${n(o.largestIncrease5dBps, 0).padStart(7)}  ${fmtParams(o.params)} | ${o.fails.length ? o.fails.join("; ") : "passes"}`);
    });
    io.stdout(lines.join("\n"));
    return 0;
  },
};
