// `riskkeeper backtest`: one walk-forward of a policy over a price CSV, printed as a table (or
// --json), with an optional self-contained HTML report and the full JSON result in --report DIR.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { renderHtmlReport } from "../backtest/report-html.ts";
import { runWalkForward, type StrategyResult, type WalkForwardResult } from "../backtest/walk-forward.ts";
import type { Command } from "./types.ts";
import { parseCommandArgs } from "./args.ts";
import { defaultPolicyFile, loadPolicy, loadSeries, progress } from "./backtest-input.ts";

const USAGE = `riskkeeper backtest --input FILE [--policy POLICY.json] [--resample 1d] [--json] [--report DIR]

  --input FILE       price CSV (timestamp + close; the Binance hourly files work as they are).
  --policy FILE      backtest policy (default: policies/default-<data interval>.json).
  --resample I       resample the prices to interval I (e.g. 1d) before the backtest.
  --json             print the full result as JSON on stdout.
  --report DIR       write DIR/report.html (self-contained, offline) and DIR/result.json.
  --z2-simulations N simulations for the Z2 p-value (default 1000).`;

function line(label: string, s: StrategyResult, extra = ""): string {
  const p = s.procyclicality;
  return [
    label.padEnd(10),
    `${s.breaches}/${s.observations}`.padStart(11),
    `${(100 * s.breachRate).toFixed(2)}%`.padStart(7),
    s.kupiec.pValue.toFixed(3).padStart(8),
    s.christoffersen.pValue.toFixed(3).padStart(8),
    s.trafficLight.overall.padStart(7),
    `${s.trafficLight.windows.green}/${s.trafficLight.windows.yellow}/${s.trafficLight.windows.red}`.padStart(18),
    s.z2.z2.toFixed(3).padStart(7),
    s.meanBufferBps.toFixed(0).padStart(6),
    s.maxBufferBps.toFixed(0).padStart(6),
    p.largestIncreaseBps.d5.toFixed(0).padStart(7),
    String(s.updates).padStart(8),
  ].join(" ") + extra;
}

export function formatSummary(r: WalkForwardResult, input: string): string {
  const head = ["strategy".padEnd(10), "breaches".padStart(11), "rate".padStart(7), "kupiec".padStart(8), "chr-cc".padStart(8), "zone".padStart(7),
    "rolling g/y/r".padStart(18), "Z2".padStart(7), "mean".padStart(6), "max".padStart(6), "rise5d".padStart(7), "updates".padStart(8)].join(" ");
  return [
    `${path.basename(input)}: policy ${r.policy}, model ${r.model}, ${r.confidence * 100}%, horizon ${r.horizon.seconds}s (${r.horizon.steps} intervals)`,
    r.windows.note,
    head,
    line("bounded", r),
    line("unbounded", r.unbounded),
    line("static", r.static, `  (${r.static.bufferBps} bps)`),
    `governance escalations: ${r.governanceEscalations}; buffers in bps; p-values: Kupiec POF and Christoffersen conditional coverage`,
  ].join("\n");
}

export const command: Command = {
  summary: "walk-forward backtest of a buffer policy on a price CSV (coverage, cost, procyclicality)",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCommandArgs("backtest", argv, {
      input: { type: "string" }, policy: { type: "string" }, report: { type: "string" }, resample: { type: "string" },
      "z2-simulations": { type: "string" }, json: { type: "boolean", default: false },
    });
    const input = args.required("input", "FILE");
    const sims = args.integer("z2-simulations", { min: 0, default: 1000 });
    const { policy: policyFile, report, resample } = args.values;
    // An explicit policy is validated before the data is read.
    const explicit = policyFile !== undefined ? loadPolicy(policyFile) : undefined;
    const series = await loadSeries(input, resample);
    const policy = explicit ?? loadPolicy(defaultPolicyFile(series.intervalSeconds));
    const result = runWalkForward(series, policy, { z2Simulations: sims, onProgress: progress(`backtest ${policy.name}`) });
    if (report !== undefined) {
      mkdirSync(report, { recursive: true });
      writeFileSync(path.join(report, "report.html"), renderHtmlReport(result, path.basename(input)));
      writeFileSync(path.join(report, "result.json"), JSON.stringify(result));
      io.stderr(`report: ${path.join(report, "report.html")}`);
    }
    io.stdout(args.values.json ? JSON.stringify(result, null, 1) : formatSummary(result, input));
    return 0;
  },
};
