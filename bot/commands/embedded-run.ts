// Shared by `riskkeeper start` (the embedded default) and `riskkeeper replay`: find the history
// (real data from ../shared/data when present, else the generated series), the policy, the
// period, and run the keeper on the embedded chain with a simulated clock.
import { existsSync } from "node:fs";
import path from "node:path";
import { loadPrices } from "../data/prices.ts";
import { generatedHourlySeries } from "../data/generated.ts";
import type { PriceSeries } from "../data/normalise.ts";
import { RiskkeeperError } from "../errors.ts";
import { parseTimeArg } from "../data/time.ts";
import { maskRpcUrl } from "../url-mask.ts";
import { createKeeperLogger } from "../keeper/log.ts";
import { SimulatedClock } from "../keeper/clock.ts";
import type { EmbeddedRunSummary } from "../keeper/embedded.ts";
import type { CommandIO } from "./types.ts";
import { POLICIES_DIR, loadPolicy } from "./backtest-input.ts";
import type { JsonValue } from "../keeper/state.ts";

export interface EmbeddedCliOptions {
  data?: string;
  from?: string;
  to?: string;
  policy?: string;
  positions?: number;
  seed?: number;
  state?: string;
  shadow?: boolean;
  quiet?: boolean;
  /** Also run the same period with parameters left as deployed, and compare. */
  baseline?: boolean;
  /** Serve /healthz and /metrics on 127.0.0.1 at this port (0: a free one) during the keeper's run. */
  healthPort?: number;
  /** Replay on a fork of this chain (pinned at --fork-block, default its latest block). */
  forkUrl?: string;
  forkBlock?: number;
}

/** The shared data folder, if this checkout sits beside it (or RISKKEEPER_SHARED_DATA says where). */
export function findSharedData(relative: string): string | undefined {
  const roots = [process.env.RISKKEEPER_SHARED_DATA, path.resolve(process.cwd(), "..", "shared", "data"), "/work/shared/data"];
  for (const root of roots) {
    if (!root) continue;
    const file = path.join(root, relative);
    if (existsSync(file)) return file;
  }
  return undefined;
}

export async function loadHistory(dataOption: string | undefined): Promise<{ series: PriceSeries; source: string; report?: JsonValue; generated: boolean }> {
  const file = dataOption ?? findSharedData(path.join("binance-spot-1h", "ETHUSDT_1h.csv"));
  if (file) {
    const { series, report } = await loadPrices(file);
    return { series, source: file, report: JSON.parse(JSON.stringify({ rowsRead: report.rowsRead, rowsKept: report.rowsKept, gaps: report.gaps?.count, duplicates: report.duplicates, timeFormat: report.timeFormat })) as JsonValue, generated: false };
  }
  return { series: generatedHourlySeries(), source: "generated (seeded GARCH-t hourly series with a crash; no data file found)", generated: true };
}

export async function runEmbeddedFromCli(options: EmbeddedCliOptions, io: CommandIO, defaults: { from: string; to: string }): Promise<{ keeper: EmbeddedRunSummary; baseline?: EmbeddedRunSummary }> {
  const { healthPort, forkBlock } = options;
  const positions = options.positions ?? 40;
  const seed = options.seed ?? 1;
  const { runEmbedded, replayTimeShift } = await import("../keeper/embedded.ts");
  const history = await loadHistory(options.data);
  const lastT = history.series.t[history.series.t.length - 1];
  const from = parseTimeArg(options.from ?? (history.generated ? String(lastT - 25 * 86_400) : defaults.from), "--from");
  const to = parseTimeArg(options.to ?? (history.generated ? String(lastT) : defaults.to), "--to");
  if (!(to > from)) throw new RiskkeeperError("CLI_USAGE", "--to must be after --from", { input: "--to" });
  const policy = loadPolicy(options.policy ?? path.join(POLICIES_DIR, "default-1h.json"));
  const stateDir = path.resolve(options.state ?? path.join(".riskkeeper", "embedded"));
  // Both runs fork the same block; the period moves past its time (see EmbeddedRunOptions.fork).
  let fork: { url: string; blockNumber: number; timeShiftSeconds: number } | undefined;
  if (options.forkUrl !== undefined) {
    const { forkPoint } = await import("../fork/session.ts");
    const point = await forkPoint(options.forkUrl, forkBlock);
    fork = { url: options.forkUrl, blockNumber: point.blockNumber, timeShiftSeconds: replayTimeShift(from, point.timestamp) };
    io.stdout(`fork: ${maskRpcUrl(options.forkUrl)} chain ${point.chainId} at block ${point.blockNumber} (${new Date(point.timestamp * 1000).toISOString()}); the period runs ${fork.timeShiftSeconds / 86_400} days later on chain, reported at its own dates`);
  }
  const run = async (keeper: boolean): Promise<EmbeddedRunSummary> => {
    const clock = new SimulatedClock((from + (fork?.timeShiftSeconds ?? 0)) * 1000);
    const log = createKeeperLogger({ level: options.quiet ? "warn" : "info", clock, file: path.join(stateDir + (keeper ? "" : "-baseline") + ".log"), terminal: options.quiet ? false : process.stderr });
    try {
      return await runEmbedded({
        series: history.series,
        source: history.source,
        ...(history.report ? { report: history.report } : {}),
        policy,
        from,
        to,
        stateDir: keeper ? stateDir : `${stateDir}-baseline`,
        logger: log.logger,
        clock,
        keeper,
        ...(options.shadow ? { shadow: true } : {}),
        ...(fork ? { fork } : {}),
        ...(keeper && healthPort !== undefined
          ? { health: { port: healthPort, onListening: (url: string) => io.stdout(`health: ${url}/healthz  metrics: ${url}/metrics`) } }
          : {}),
        positions,
        seed,
        onEvent: (e) => {
          if (options.quiet) return;
          if (e.kind === "day") io.stdout(`${keeper ? "keeper  " : "baseline"} ${e.line}`);
        },
      });
    } finally {
      await log.close();
    }
  };
  io.stdout(`history: ${history.source}\nperiod: ${new Date(from * 1000).toISOString()} .. ${new Date(to * 1000).toISOString()}, policy ${policy.name}`);
  const keeper = await run(true);
  const baseline = options.baseline ? await run(false) : undefined;
  return { keeper, ...(baseline ? { baseline } : {}) };
}

export function formatRunSummary(s: EmbeddedRunSummary): string {
  const lines = [
    `${s.keeper ? "keeper" : "static baseline"}: ${s.hours} hours, ${s.updatesConfirmed} updates confirmed${Object.keys(s.rejected).length ? `, rejected ${JSON.stringify(s.rejected)}` : ""}`,
    `  maintenance margin in force: mean ${s.meanMaintenanceBps.toFixed(0)} bps, max ${s.maxMaintenanceBps} bps; final ${JSON.stringify(s.finalParams)}`,
    `  protocol: ${s.positionsOpened} positions opened, ${s.liquidations} liquidations, bad debt ${s.badDebt} dUSD`,
  ];
  for (const d of s.decisions) lines.push(`  ${d.at} ${d.outcome.padEnd(9)} ${d.changes} ${d.outcome === "confirmed" ? `tx ${d.txHash}` : `— ${d.reason}`}`);
  return lines.join("\n");
}
