// `riskkeeper data inspect <file>`: loads a data file with the right loader (guessed from its
// header, or --kind) and prints the normaliser's report: rows, duplicates, gaps, rejected values,
// zero-volume candles, suspected bad ticks, time format. Price files are inspected in streaming
// mode (the series is not kept), so the file size does not bound the memory.
import {
  loadLiquidations, loadReturns, loadRounds, normalisePriceFile, parseInterval, sniffDataFile,
  type DataFileKind, type LoadPricesOptions, type NormaliseReport, type RoundsReport,
} from "../data/index.ts";
import { parseCommandArgs } from "./args.ts";
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

const OPTIONS = {
  interval: { type: "string" }, kind: { type: "string" }, fill: { type: "string" },
  "time-column": { type: "string" }, "price-column": { type: "string" }, "volume-column": { type: "string" }, column: { type: "string" },
  "expected-interval": { type: "string" }, "bad-tick": { type: "string" }, heartbeat: { type: "string" }, decimals: { type: "string" },
  "max-rows": { type: "string" }, limit: { type: "string" }, json: { type: "boolean", default: false },
} as const;
const KINDS: readonly DataFileKind[] = ["prices", "dvol", "gas", "rounds", "returns", "liquidations"];

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
    const args = parseCommandArgs("data inspect", argv, OPTIONS, { positionals: true });
    if (args.positionals.length !== 1) throw args.usage(`expected one file, got ${args.positionals.length}`, "file");
    const file = args.positionals[0];
    const kindArg = args.oneOf("kind", KINDS);
    const fill = args.oneOf("fill", ["none", "forward"] as const);
    const maxRows = args.integer("max-rows", { min: 0 });
    const listLimit = args.integer("limit", { min: 0 });
    const heartbeatSeconds = args.number("heartbeat", { min: 0 });
    const decimals = args.integer("decimals", { min: 0 });
    const badTick = args.number("bad-tick", { min: 0 });
    const { json, column: columnArg, interval, "expected-interval": expected, "time-column": timeColumn } = args.values;
    const kind = kindArg ?? (await sniffDataFile(file)).kind;
    let report: unknown;
    let text: string[];
    if (kind === "rounds") {
      const { report: r } = await loadRounds(file, { maxRows, listLimit, heartbeatSeconds, decimals });
      report = r; text = roundsSummary(r);
    } else if (kind === "returns") {
      const column = columnArg ?? (await sniffDataFile(file)).header.find((h) => h.toLowerCase().startsWith("return"));
      if (!column) throw args.usage("name the returns column with --column", "--column");
      const { report: r } = await loadReturns(file, { column, maxRows, listLimit, timeColumn });
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
      const options: LoadPricesOptions = {
        collect: false, maxRows, listLimit, fill,
        resampleSeconds: interval !== undefined ? parseInterval(interval, "--interval") : undefined,
        expectedIntervalSeconds: expected !== undefined ? parseInterval(expected, "--expected-interval") : kind === "prices" ? undefined : 86400,
        timeColumn,
        priceColumn: args.values["price-column"] ?? (kind === "gas" ? "avg_gas_price_gwei" : undefined),
        volumeColumn: args.values["volume-column"],
        badTickThreshold: badTick ?? (kind === "gas" ? Math.log(10) : kind === "dvol" ? 0.25 : undefined),
      };
      const { report: r } = await normalisePriceFile(file, options);
      report = r; text = priceSummary(r);
    }
    io.stdout(json ? JSON.stringify(report, null, 2) : text.filter((l) => l !== "").join("\n"));
    return 0;
  },
};
