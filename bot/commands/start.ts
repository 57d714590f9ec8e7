import { parseCommandArgs, pick } from "./args.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper start [--data PRICES.csv] [--from DATE] [--to DATE] [--policy FILE] [--positions N]
                 [--seed N] [--state DIR] [--health-port N] [--shadow] [--quiet] [--json]

The embedded default: an in-process chain on 127.0.0.1 with everything deployed, recorded history
played hour by hour through the ReplayAggregator on a simulated clock, traders and a liquidator on
the demo protocol, and the keeper running its whole pipeline against it (signals, calibration,
bounded rule, backtest gate, fork gate, submission, confirmation). Without --data it uses
../shared/data/binance-spot-1h/ETHUSDT_1h.csv when present (default period 2022-05-05..2022-05-20,
the LUNA crash), else a generated series. State and evidence go to .riskkeeper/embedded (reset).
Health and metrics are served on 127.0.0.1 while it runs (/healthz, /metrics) at --health-port
(default 0: a free port, printed at start).`;

export const command: Command = {
  summary: "run the keeper on the embedded chain over recorded history, as if live, printing what it decides and why",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCommandArgs("start", argv, {
      data: { type: "string" }, from: { type: "string" }, to: { type: "string" }, policy: { type: "string" },
      positions: { type: "string" }, seed: { type: "string" }, state: { type: "string" }, "health-port": { type: "string" },
      shadow: { type: "boolean" }, quiet: { type: "boolean" }, json: { type: "boolean" },
    });
    const { values } = args;
    // Every option is checked before anything starts.
    const options = {
      ...pick(values, ["data", "from", "to", "policy", "state", "shadow", "quiet"] as const),
      positions: args.integer("positions", { min: 0, default: 40 }),
      seed: args.integer("seed", { min: 0, default: 1 }),
      healthPort: args.integer("health-port", { min: 0, max: 65_535, default: 0 }),
    };
    const { runEmbeddedFromCli, formatRunSummary } = await import("./embedded-run.ts");
    const { keeper } = await runEmbeddedFromCli(options, io, { from: "2022-05-05T00:00:00Z", to: "2022-05-20T00:00:00Z" });
    io.stdout(values.json ? JSON.stringify(keeper, null, 2) : `\n${formatRunSummary(keeper)}`);
    return 0;
  },
};
