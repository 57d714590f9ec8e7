import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseCommandArgs, pick } from "./args.ts";
import type { EmbeddedRunSummary } from "../keeper/embedded.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper replay --from DATE --to DATE [--data PRICES.csv] [--policy FILE] [--positions N]
                  [--seed N] [--state DIR] [--report DIR] [--fork-url URL [--fork-block N]]
                  [--shadow] [--quiet] [--json]

Runs the keeper over a historical period on the embedded chain with a simulated clock (the same
pipeline as live: signals, calibration, bounded rule, backtest gate, fork gate, submission), then
the same period with the parameters left as deployed (the static baseline), and compares them:
bad debt, liquidations, mean maintenance margin, updates. --report DIR writes replay.json,
replay.md and the policy's walk-forward backtest up to --to as report.html.
--fork-url runs both on a fork of that chain (pinned at --fork-block, default its latest block)
instead of a fresh one: the contracts are deployed on the fork, and since a chain's clock cannot
go back, the period is played that many whole days later on chain (reported at its own dates).`;

export function replayTable(k: EmbeddedRunSummary, b: EmbeddedRunSummary): string {
  const row = (name: string, s: EmbeddedRunSummary) =>
    `| ${name} | ${s.updatesConfirmed} | ${s.meanMaintenanceBps.toFixed(0)} | ${s.maxMaintenanceBps} | ${s.liquidations} | ${s.badDebt} | ${s.positionsOpened} |`;
  return [
    `| strategy | updates | mean MM bps | max MM bps | liquidations | bad debt (dUSD) | positions opened |`,
    `|---|---:|---:|---:|---:|---:|---:|`,
    row("keeper", k),
    row("static baseline", b),
  ].join("\n");
}

export const command: Command = {
  summary: "replay a historical period as if live, keeper against a static baseline, with the backtest report",
  usage: USAGE,
  async run(argv, io) {
    const args = parseCommandArgs("replay", argv, {
      from: { type: "string" }, to: { type: "string" }, data: { type: "string" }, policy: { type: "string" },
      positions: { type: "string" }, seed: { type: "string" }, state: { type: "string" }, report: { type: "string" },
      "fork-url": { type: "string" }, "fork-block": { type: "string" }, shadow: { type: "boolean" }, quiet: { type: "boolean" }, json: { type: "boolean" },
    });
    const { values } = args;
    const from = args.required("from", "DATE");
    const to = args.required("to", "DATE");
    const forkBlock = args.integer("fork-block", { min: 0 });
    if (forkBlock !== undefined && values["fork-url"] === undefined) throw args.usage("--fork-block needs --fork-url", "--fork-block");
    const { runEmbeddedFromCli, formatRunSummary } = await import("./embedded-run.ts");
    const { keeper, baseline } = await runEmbeddedFromCli({
      ...pick(values, ["data", "policy", "shadow", "quiet"] as const),
      from, to,
      positions: args.integer("positions", { min: 0, default: 40 }),
      seed: args.integer("seed", { min: 0, default: 1 }),
      ...(values["fork-url"] !== undefined ? { forkUrl: values["fork-url"] } : {}),
      ...(forkBlock !== undefined ? { forkBlock } : {}),
      baseline: true,
      state: values.state ?? path.join(".riskkeeper", "replay"),
    }, io, { from, to });
    const table = replayTable(keeper, baseline!);
    if (values.report) {
      await mkdir(values.report, { recursive: true });
      const { loadHistory } = await import("./embedded-run.ts");
      const { POLICIES_DIR, loadPolicy } = await import("./backtest-input.ts");
      const { runWalkForward, regularGrid } = await import("../backtest/walk-forward.ts");
      const { renderHtmlReport } = await import("../backtest/report-html.ts");
      const { parseTimeArg } = await import("../data/time.ts");
      const history = await loadHistory(values.data);
      const policy = loadPolicy(values.policy ?? path.join(POLICIES_DIR, "default-1h.json"));
      const toSeconds = parseTimeArg(to, "--to");
      const s = history.series;
      let last = s.t.length - 1;
      while (last > 0 && s.t[last] > toSeconds) last--;
      let first = 0;
      while (first < last && s.t[first] < s.t[last] - 3 * 365 * 86_400) first++;
      const result = runWalkForward({ ...regularGrid(s.t.subarray(first, last + 1), s.close.subarray(first, last + 1), s.intervalSeconds, history.source), raw: s }, policy);
      await writeFile(path.join(values.report, "report.html"), renderHtmlReport(result, `${policy.name} up to ${values.to}`));
      await writeFile(path.join(values.report, "replay.json"), JSON.stringify({ keeper, baseline }, null, 2));
      await writeFile(path.join(values.report, "replay.md"), `# Replay ${keeper.from} .. ${keeper.to}\n\n${keeper.fork ? `On a fork of ${keeper.fork.url} (chain ${keeper.fork.chainId}) at block ${keeper.fork.blockNumber}, played ${keeper.fork.timeShiftSeconds / 86_400} days later on chain.\n\n` : ""}${table}\n\n## Keeper decisions\n\n${keeper.decisions.map((d) => `- ${d.at} ${d.outcome} ${d.changes} ${d.txHash ?? d.reason}`).join("\n")}\n`);
      io.stderr(`report: ${path.join(values.report, "report.html")}, replay.md, replay.json`);
    }
    io.stdout(values.json ? JSON.stringify({ keeper, baseline }, null, 2) : `\n${formatRunSummary(keeper)}\n\n${formatRunSummary(baseline!)}\n\n${table}`);
    return 0;
  },
};
