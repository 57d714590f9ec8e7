// `riskkeeper data inspect <file>`: loads a data file with the right loader (guessed from its
// header, or --kind) and prints the normaliser's report: rows, duplicates, gaps, rejected values,
// zero-volume candles, suspected bad ticks, time format. Price files are inspected in streaming
// mode (the series is not kept), so the file size does not bound the memory.
import { RiskkeeperError } from "../errors.ts";
import {
  loadLiquidations, loadReturns, loadRounds, normalisePriceFile, parseInterval, sniffDataFile,
  type DataFileKind, type LoadPricesOptions, type NormaliseReport, type RoundsReport,
} from "../data/index.ts";
import { numberOption, parseArgs } from "./data-args.ts";
import type { Command } from "./types.ts";

const USAGE = `riskkeeper data inspect <file> [--interval 1h] [--json]
    [--kind prices|dvol|gas|rounds|returns|liquidations] [--fill none|forward]
    [--time-column NAME] [--price-column NAME] [--volume-column NAME] [--column NAME]
    [--expected-interval 1h] [--bad-tick 0.1] [--heartbeat SECONDS] [--decimals N]
    [--max-rows N] [--limit N]

  --interval         resample to this interval (UTC buckets: first open, max high, min low, last close)
  --kind             which loader (default: guessed from the header)
  --column           the returns column (returns files)
  --expected-interval  native spacing for gap detection (default: median of the first 64 steps)
  --bad-tick         log move that counts as a suspected bad tick when it reverts next step
  --heartbeat        Chainlink heartbeat for round files (counts intervals above it)
  --max-rows         stop with DATA_TOO_LARGE beyond this many rows
  --limit            entries per list in the report (default 20)
  --json             print the report as JSON`;

const VALUED = ["interval", "kind", "fill", "time-column", "price-column", "volume-column", "column", "expected-interval", "bad-tick", "heartbeat", "decimals", "max-rows", "limit"];
const KINDS: DataFileKind[] = ["prices", "dvol", "gas", "rounds", "returns", "liquidations"];

function priceSummary(r: NormaliseReport): string[] {
  const lines = [
    `${r.file}`,
    `  kind ${r.kind}, time column '${r.timeColumn}' (${r.timeFormat}), columns ${Object.entries(r.columns).map(([k, v]) => (k === v ? k : `${k}=${v}`)).join(", ")}`,
    `  rows read ${r.rowsRead}, kept ${r.rowsKept}, ${r.first} .. ${r.last}`,
    `  interval ${r.interval ? `${r.interval.label} (${r.interval.source})` : "unknown"}`,
    `  duplicates dropped ${r.duplicates.dropped} (${r.duplicates.conflicting} with different values)${r.duplicates.lines.length ? `, lines ${r.duplicates.lines.join(", ")}` : ""}`,
    `  gaps ${r.gaps.count}, missing intervals ${r.gaps.missingSteps}${r.gaps.longest ? `, longest ${r.gaps.longest.missing} after ${r.gaps.longest.after} (line ${r.gaps.longest.afterLine})` : ""}`,
  ];
  for (const g of r.gaps.list) lines.push(`    ${g.after} -> ${g.before}: ${g.missing} missing (lines ${g.afterLine}-${g.beforeLine})`);
  if (r.gaps.count > r.gaps.list.length) lines.push(`    ... ${r.gaps.count - r.gaps.list.length} more`);
  lines.push(`  rejected ${r.rejected.count}`);
  for (const x of r.rejected.list) lines.push(`    line ${x.line}: ${x.column} = '${x.value}' (${x.reason})`);
  lines.push(`  zero-volume candles ${r.zeroVolume.count}${r.zeroVolume.list.length ? `: ${r.zeroVolume.list.map((z) => `${z.at} (line ${z.line})`).join(", ")}` : ""}`);
  lines.push(`  suspected bad ticks ${r.badTicks.count} (move > ${r.badTicks.threshold.toFixed(3)} in log, reverting >= ${r.badTicks.revert * 100}% next step)`);
  for (const b of r.badTicks.list) lines.push(`    ${b.at} (line ${b.line}): ${b.move} then ${b.next}`);
  if (r.largestMove) lines.push(`  largest move ${(Math.expm1(r.largestMove.logReturn) * 100).toFixed(2)}% at ${r.largestMove.at} (line ${r.largestMove.line})`);
  if (r.resample) lines.push(`  resampled to ${r.resample.label}: ${r.resample.buckets} buckets, ${r.resample.emptyBuckets} empty, ${r.resample.filled} forward-filled`);
  return lines;
}

function roundsSummary(r: RoundsReport): string[] {
  const lines = [
    `${r.file}`,
    `  Chainlink rounds, updatedAt ${r.timeFormat}, decimals ${r.decimals.value ?? "none"} (${r.decimals.source})`,
    `  rows read ${r.rowsRead}, kept ${r.rowsKept}, ${r.first} .. ${r.last}`,
  ];
  for (const p of r.phases) lines.push(`  phase ${p.phaseId}: ${p.rounds} rounds ${p.firstRound}..${p.lastRound}, ${p.firstUpdatedAt} .. ${p.lastUpdatedAt}, ${p.missingRounds} ids skipped`);
  lines.push(`  duplicates ${r.duplicates.dropped}, rejected ${r.rejected.count}, answered in an earlier round ${r.answeredInEarlierRound.count}`);
  for (const x of r.rejected.list) lines.push(`    line ${x.line}: answer '${x.value}' (${x.reason})`);
  if (r.updateIntervals) lines.push(`  update interval median ${r.updateIntervals.median}s, max ${r.updateIntervals.max}s after ${r.updateIntervals.maxAt}`);
  if (r.heartbeat) lines.push(`  heartbeat ${r.heartbeat.seconds}s: ${r.heartbeat.over} intervals above it, ${r.heartbeat.overWithGrace} above it + ${r.heartbeat.graceSeconds}s`);
  if (r.largestMove) lines.push(`  largest move ${(Math.expm1(r.largestMove.logReturn) * 100).toFixed(2)}% at ${r.largestMove.at} (line ${r.largestMove.line})`);
  return lines;
}

export const command: Command = {
  summary: "load a price/rounds/returns file and print its data-quality report",
  usage: USAGE,
  async run(argv, io) {
    const args = parseArgs(argv, VALUED, ["json"], USAGE);
    if (args.positional.length !== 1) throw new RiskkeeperError("CLI_USAGE", `expected one file, got ${args.positional.length}\n${USAGE}`, { input: "file" });
    const file = args.positional[0];
    const kindArg = args.options.get("kind");
    if (kindArg !== undefined && !KINDS.includes(kindArg as DataFileKind)) throw new RiskkeeperError("CLI_USAGE", `expected one of ${KINDS.join(", ")}`, { input: "--kind" });
    const kind = (kindArg as DataFileKind | undefined) ?? (await sniffDataFile(file)).kind;
    const maxRows = numberOption(args, "max-rows", true);
    const listLimit = numberOption(args, "limit", true);
    const json = args.flags.has("json");
    let report: unknown;
    let text: string[];
    if (kind === "rounds") {
      const { report: r } = await loadRounds(file, { maxRows, listLimit, heartbeatSeconds: numberOption(args, "heartbeat"), decimals: numberOption(args, "decimals", true) });
      report = r; text = roundsSummary(r);
    } else if (kind === "returns") {
      const column = args.options.get("column") ?? (await sniffDataFile(file)).header.find((h) => h.toLowerCase().startsWith("return"));
      if (!column) throw new RiskkeeperError("CLI_USAGE", "name the returns column with --column", { input: "--column" });
      const { report: r } = await loadReturns(file, { column, maxRows, listLimit, timeColumn: args.options.get("time-column") });
      report = r;
      text = [r.file, `  column '${r.column}', rows read ${r.rowsRead}, kept ${r.rowsKept}, rejected ${r.rejected.count}`,
        ...r.rejected.list.map((x) => `    line ${x.line}: '${x.value}' (${x.reason})`),
        r.stats ? `  mean ${r.stats.mean.toPrecision(6)}, sd ${r.stats.sd.toPrecision(6)}, min ${r.stats.min}, max ${r.stats.max}` : ""];
    } else if (kind === "liquidations") {
      const { report: r } = await loadLiquidations(file, { maxRows, listLimit });
      report = r;
      text = [r.file, `  ${r.rowsRead} events ${r.first} .. ${r.last}`, `  markets ${JSON.stringify(r.byMarket)}, amount formats ${JSON.stringify(r.byAmountSource)}`,
        `  exact duplicate rows ${r.exactDuplicateRows}, rows without USD value ${r.missingUsd}, rejected ${r.rejected.count}`,
        ...r.busiestDays.map((d) => `    ${d.day}: ${d.events} events, $${d.debtUsd.toLocaleString("en-US")} repaid`)];
    } else {
      const fill = args.options.get("fill");
      if (fill !== undefined && fill !== "none" && fill !== "forward") throw new RiskkeeperError("CLI_USAGE", "expected none or forward", { input: "--fill" });
      const interval = args.options.get("interval");
      const expected = args.options.get("expected-interval");
      const options: LoadPricesOptions = {
        collect: false, maxRows, listLimit, fill,
        resampleSeconds: interval !== undefined ? parseInterval(interval, "--interval") : undefined,
        expectedIntervalSeconds: expected !== undefined ? parseInterval(expected, "--expected-interval") : kind === "prices" ? undefined : 86400,
        timeColumn: args.options.get("time-column"),
        priceColumn: args.options.get("price-column") ?? (kind === "gas" ? "avg_gas_price_gwei" : undefined),
        volumeColumn: args.options.get("volume-column"),
        badTickThreshold: numberOption(args, "bad-tick") ?? (kind === "gas" ? Math.log(10) : kind === "dvol" ? 0.25 : undefined),
      };
      const { report: r } = await normalisePriceFile(file, options);
      report = r; text = priceSummary(r);
    }
    io.stdout(json ? JSON.stringify(report, null, 2) : text.filter((l) => l !== "").join("\n"));
    return 0;
  },
};
