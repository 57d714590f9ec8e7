// Loaders for the other shared series: a plain returns column chosen by name (e.g. dem2gbp's
// `return_pct`), Deribit DVOL daily candles, Etherscan daily gas, and a header sniffer that tells
// which loader a CSV needs (used by `riskkeeper data inspect`).
import { RiskkeeperError } from "../errors.ts";
import { Float64Column } from "./columns.ts";
import { findColumn, openCsv } from "./csv.ts";
import { loadPrices, TIME_COLUMNS, type LoadedPrices, type LoadPricesOptions } from "./prices.ts";
import { detectTimeFormat, parseTime, type TimeFormat } from "./time.ts";

export interface ReturnsReport {
  file: string;
  column: string;
  timeColumn: string | null;
  timeFormat: TimeFormat | null;
  rowsRead: number;
  rowsKept: number;
  rejected: { count: number; list: { line: number; value: string; reason: "non-finite" }[] };
  /** Summary of the kept values, in the file's units. */
  stats: { mean: number; sd: number; min: number; max: number } | null;
}

export interface ReturnsSeries {
  /** Unix seconds, or null when the file has no time column. */
  t: Float64Array | null;
  values: Float64Array;
  line: Float64Array;
}

export interface LoadReturnsOptions {
  /** The returns column (required: returns files name it differently, e.g. return_pct). */
  column: string;
  /** Optional time column; default the first known time column present, if any. */
  timeColumn?: string;
  maxRows?: number;
  listLimit?: number;
}

/**
 * Loads one numeric column of returns. Zero and negative values are valid returns; only
 * non-finite values are rejected (and listed with their lines).
 *
 * @example
 * const { series } = await loadReturns("dem2gbp.csv", { column: "return_pct" });
 */
export async function loadReturns(path: string, options: LoadReturnsOptions): Promise<{ series: ReturnsSeries; report: ReturnsReport }> {
  const csv = await openCsv(path, { maxRows: options.maxRows });
  const h = csv.header;
  const vi = findColumn(h, [options.column]);
  if (vi < 0) throw new RiskkeeperError("DATA_MISSING_COLUMN", `no column '${options.column}' (columns: ${h.join(", ")})`, { input: `${path}:${csv.headerLine}` });
  const ti = options.timeColumn ? findColumn(h, [options.timeColumn]) : findColumn(h, TIME_COLUMNS);
  if (options.timeColumn && ti < 0) throw new RiskkeeperError("DATA_MISSING_COLUMN", `no column '${options.timeColumn}'`, { input: `${path}:${csv.headerLine}` });
  const limit = options.listLimit ?? 20;
  const report: ReturnsReport = {
    file: path, column: h[vi], timeColumn: ti >= 0 ? h[ti] : null, timeFormat: null, rowsRead: 0, rowsKept: 0, rejected: { count: 0, list: [] }, stats: null,
  };
  const tc = new Float64Column();
  const vc = new Float64Column();
  const lc = new Float64Column();
  let lastT = -Infinity;
  let sum = 0, sumSq = 0, min = Infinity, max = -Infinity;
  const width = Math.max(vi, ti) + 1;
  for await (const { line, fields } of csv.rows) {
    const input = `${path}:${line}`;
    report.rowsRead++;
    if (fields.length < width) throw new RiskkeeperError("DATA_BAD_VALUE", `expected at least ${width} fields, found ${fields.length}`, { input });
    let t = NaN;
    if (ti >= 0) {
      if (report.timeFormat === null) {
        report.timeFormat = detectTimeFormat(fields[ti]) ?? null;
        if (report.timeFormat === null) throw new RiskkeeperError("DATA_BAD_VALUE", `'${fields[ti]}' is not an ISO-8601 time or Unix seconds`, { input });
      }
      t = parseTime(fields[ti], report.timeFormat);
      if (Number.isNaN(t)) throw new RiskkeeperError("DATA_BAD_VALUE", `'${fields[ti]}' does not match the format of the first row (${report.timeFormat})`, { input });
      if (t <= lastT) throw new RiskkeeperError("DATA_TIME_ORDER", `time '${fields[ti]}' is not after the previous row's`, { input });
    }
    const s = fields[vi].trim();
    const v = s === "" ? NaN : Number(s);
    if (!Number.isFinite(v)) {
      report.rejected.count++;
      if (report.rejected.list.length < limit) report.rejected.list.push({ line, value: fields[vi], reason: "non-finite" });
      continue;
    }
    if (ti >= 0) { tc.push(t); lastT = t; }
    vc.push(v); lc.push(line);
    report.rowsKept++;
    sum += v; sumSq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (report.rowsRead === 0) throw new RiskkeeperError("DATA_EMPTY", "no data rows after the header", { input: path });
  if (report.rowsKept === 0) throw new RiskkeeperError("DATA_EMPTY", `all ${report.rowsRead} rows were rejected`, { input: path });
  const n = report.rowsKept;
  const mean = sum / n;
  const sd = n > 1 ? Math.sqrt(Math.max(0, (sumSq - n * mean * mean) / (n - 1))) : 0;
  report.stats = { mean, sd, min, max };
  return { series: { t: ti >= 0 ? tc.toArray() : null, values: vc.toArray(), line: lc.toArray() }, report };
}

/**
 * Deribit DVOL daily candles (percent, annualised) as an `ohlc` price series.
 * Divide by 100 for a decimal volatility.
 */
export function loadDvol(path: string, options: LoadPricesOptions = {}): Promise<LoadedPrices> {
  // DVOL is a volatility index: a 25% one-day move is ordinary in a stress, so bad ticks use a wider band.
  return loadPrices(path, { expectedIntervalSeconds: 86400, badTickThreshold: 0.25, ...options });
}

/**
 * Etherscan daily average gas price (gwei) as a `price` series. The genesis days with a zero price
 * are rejected as non-positive (listed in the report, SOURCE.md says to skip them).
 */
export function loadGasDaily(path: string, options: LoadPricesOptions = {}): Promise<LoadedPrices> {
  // Gas prices double and halve within days; only a tenfold spike that reverts is a suspected bad tick.
  // A daily average is known only when the day ends: barTime "open".
  return loadPrices(path, { priceColumn: "avg_gas_price_gwei", expectedIntervalSeconds: 86400, badTickThreshold: Math.log(10), barTime: "open", ...options });
}

export type DataFileKind = "prices" | "rounds" | "returns" | "gas" | "dvol" | "liquidations";

/** Guesses the loader for a CSV from its header row. */
export async function sniffDataFile(path: string): Promise<{ kind: DataFileKind; header: string[] }> {
  const csv = await openCsv(path, { maxRows: 1 });
  csv.close();
  const h = csv.header;
  const has = (...names: string[]): boolean => findColumn(h, names) >= 0;
  let kind: DataFileKind;
  if (has("round_id", "roundId")) kind = "rounds";
  else if (has("collateral_symbol")) kind = "liquidations";
  else if (has("avg_gas_price_gwei")) kind = "gas";
  else if (has("close", "price") || (h.length === 12 && /^\d+$/.test(h[0]))) kind = has("symbol") && !has("volume", "volume_base") ? "dvol" : "prices";
  else if (h.some((x) => x.toLowerCase().startsWith("return"))) kind = "returns";
  else throw new RiskkeeperError("DATA_MISSING_COLUMN", `cannot tell what this file holds from its header (${h.join(", ")}); expected price/OHLC, Chainlink rounds, returns, gas or liquidations columns`, { input: `${path}:${csv.headerLine}` });
  return { kind, header: h };
}
