// Price-history loader: a CSV with a timestamp column and either a `price` column or OHLC(V)
// candles, streamed through the normaliser. Header names are matched case-insensitively against
// the common spellings (our Binance files' `volume_base`, CryptoDataDownload's `Volume ETH`, Deribit
// DVOL's `open,high,low,close`), and a header-less Binance kline dump (open time in ms or µs, 12
// columns) is recognised. Values that are not finite or not positive are rejected row by row and
// listed in the report; structural faults (missing column, short row, unparseable or unordered
// timestamp) stop the load with an error naming file:line.
import { RiskkeeperError } from "../errors.ts";
import { findColumn, openCsv, type CsvFile } from "./csv.ts";
import { PriceNormaliser, type NormaliseOptions, type NormaliseReport, type PriceKind, type PriceSeries, type RejectedEntry } from "./normalise.ts";
import { detectTimeFormat, parseTime, type TimeFormat } from "./time.ts";

export interface LoadPricesOptions extends NormaliseOptions {
  /** Name of the time column; default: the first of unix_s, unix_ms, timestamp, open_time, time, timestamp_utc, datetime, date_utc, date. */
  timeColumn?: string;
  /** Name of a single price column (`price` kind), e.g. `answer`; default `price` when there is no `close`. */
  priceColumn?: string;
  /** Name of the volume column; default the first of volume, volume_base, or any header starting with "volume". */
  volumeColumn?: string;
  /** Stop with DATA_TOO_LARGE beyond this many data rows. */
  maxRows?: number;
}

export interface LoadedPrices {
  series: PriceSeries;
  report: NormaliseReport;
}

export const TIME_COLUMNS = ["unix_s", "unix_ms", "timestamp", "open_time", "time", "timestamp_utc", "datetime", "date_utc", "date"];

/** Binance's kline CSV (data.binance.vision) has no header; these are its first six columns. */
const BINANCE_KLINE_COLUMNS = 12;

interface Mapping {
  kind: PriceKind;
  time: number;
  timeName: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  columns: Record<string, string>;
  width: number;
}

function mapColumns(path: string, header: string[], options: LoadPricesOptions): Mapping {
  const need = (name: string): number => {
    const i = findColumn(header, [name]);
    if (i < 0) throw new RiskkeeperError("DATA_MISSING_COLUMN", `no column '${name}' (columns: ${header.join(", ")})`, { input: `${path}:1` });
    return i;
  };
  const time = options.timeColumn ? need(options.timeColumn) : findColumn(header, TIME_COLUMNS);
  if (time < 0) {
    throw new RiskkeeperError("DATA_MISSING_COLUMN", `no timestamp column: expected one of ${TIME_COLUMNS.join(", ")} or --time-column (columns: ${header.join(", ")})`, { input: `${path}:1` });
  }
  let open = -1, high = -1, low = -1, close = -1, volume = -1;
  let kind: PriceKind;
  if (options.priceColumn) {
    close = need(options.priceColumn);
    kind = "price";
  } else if ((close = findColumn(header, ["close", "close_price"])) >= 0) {
    open = findColumn(header, ["open", "open_price"]);
    high = findColumn(header, ["high", "high_price"]);
    low = findColumn(header, ["low", "low_price"]);
    const missing = [["open", open], ["high", high], ["low", low]].filter(([, i]) => i === -1).map(([n]) => n);
    if (missing.length > 0) {
      throw new RiskkeeperError("DATA_MISSING_COLUMN", `has 'close' but no ${missing.join(", ")}: need open, high, low, close (or a single price column)`, { input: `${path}:1` });
    }
    kind = "ohlc";
  } else if ((close = findColumn(header, ["price"])) >= 0) {
    kind = "price";
  } else {
    throw new RiskkeeperError("DATA_MISSING_COLUMN", `no price column: expected 'price' or 'open,high,low,close' (columns: ${header.join(", ")})`, { input: `${path}:1` });
  }
  if (options.volumeColumn) volume = need(options.volumeColumn);
  else if (kind === "ohlc") {
    volume = findColumn(header, ["volume", "volume_base", "vol"]);
    if (volume < 0) volume = header.findIndex((h) => h.toLowerCase().startsWith("volume"));
  }
  if (volume >= 0) kind = kind === "ohlc" ? "ohlcv" : kind;
  const columns: Record<string, string> = {};
  if (kind === "price") columns.price = header[close];
  else {
    columns.open = header[open]; columns.high = header[high]; columns.low = header[low]; columns.close = header[close];
  }
  if (volume >= 0) columns.volume = header[volume];
  const width = Math.max(time, open, high, low, close, volume) + 1;
  return { kind, time, timeName: header[time], open, high, low, close, volume, columns, width };
}

function parseCell(text: string | undefined): number {
  // Number("") and Number(" ") are 0: an empty cell must be NaN, not a zero price.
  if (text === undefined) return NaN;
  const x = Number(text);
  return x === 0 && text.trim() === "" ? NaN : x;
}

/**
 * Streams a price CSV through the normaliser.
 *
 * @example
 * const { series, report } = await loadPrices("ETHUSDT_1h.csv", { resampleSeconds: 86400 });
 * report.gaps.count; // 30
 */
export async function loadPrices(path: string, options: LoadPricesOptions = {}): Promise<LoadedPrices> {
  const { report, series } = await normalisePriceFile(path, options);
  return { report, series: series as PriceSeries };
}

/** As `loadPrices`, but honours `collect: false` (report only, constant memory). */
export async function normalisePriceFile(path: string, options: LoadPricesOptions = {}): Promise<{ report: NormaliseReport; series: PriceSeries | undefined }> {
  let csv: CsvFile = await openCsv(path, { maxRows: options.maxRows });
  let header = csv.header;
  // A header-less Binance kline dump: first cell is a numeric open time.
  if (header.length === BINANCE_KLINE_COLUMNS && detectTimeFormat(header[0]) !== undefined && /^\d+$/.test(header[0].trim())) {
    csv.close();
    csv = await openCsv(path, { maxRows: options.maxRows, headerless: true });
    header = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "trades", "taker_buy_base", "taker_buy_quote", "ignore"];
  }
  const m = mapColumns(path, header, options);
  let format: TimeFormat | undefined;
  let normaliser: PriceNormaliser | undefined;
  const colName = (i: number): string => header[i];

  for await (const batch of csv.batches) {
    for (const { line, fields } of batch) {
      if (fields.length < m.width) {
        throw new RiskkeeperError("DATA_BAD_VALUE", `expected at least ${m.width} fields, found ${fields.length}`, { input: `${path}:${line}` });
      }
      const rawT = fields[m.time];
      if (format === undefined) {
        format = detectTimeFormat(rawT);
        if (format === undefined) {
          throw new RiskkeeperError("DATA_BAD_VALUE", `column '${m.timeName}': '${rawT}' is not an ISO-8601 time or Unix seconds/milliseconds`, { input: `${path}:${line}` });
        }
        normaliser = new PriceNormaliser({ file: path, kind: m.kind, timeColumn: m.timeName, timeFormat: format, columns: m.columns }, options);
      }
      const n = normaliser as PriceNormaliser;
      const t = parseTime(rawT, format);
      if (Number.isNaN(t)) {
        throw new RiskkeeperError("DATA_BAD_VALUE", `column '${m.timeName}': '${rawT}' is not a valid ${format} time (the format of the first row)`, { input: `${path}:${line}` });
      }
      const c = parseCell(fields[m.close]);
      let o = c, h = c, l = c;
      if (m.kind !== "price") {
        o = parseCell(fields[m.open]); h = parseCell(fields[m.high]); l = parseCell(fields[m.low]);
      }
      const v = m.volume >= 0 ? parseCell(fields[m.volume]) : NaN;
      const bad = checkValues(m, fields, line, o, h, l, c, v, colName);
      if (bad) { n.reject(bad); continue; }
      n.push(line, t, o, h, l, c, v, path);
    }
  }
  if (!normaliser) throw new RiskkeeperError("DATA_EMPTY", "no data rows after the header", { input: path });
  const out = normaliser.finish();
  if (out.report.rowsKept === 0) {
    throw new RiskkeeperError("DATA_EMPTY", `all ${out.report.rowsRead} data rows were rejected (first: line ${out.report.rejected.list[0]?.line}, ${out.report.rejected.list[0]?.reason})`, {
      input: path,
      details: { report: out.report },
    });
  }
  return out;
}

function checkValues(m: Mapping, fields: string[], line: number, o: number, h: number, l: number, c: number, v: number, colName: (i: number) => string): RejectedEntry | undefined {
  if (m.kind === "price") {
    if (c > 0 && c !== Infinity) return undefined;
    return { line, column: colName(m.close), value: fields[m.close], reason: Number.isFinite(c) ? "non-positive" : "non-finite" };
  }
  if (!(o > 0 && h > 0 && l > 0 && c > 0 && o !== Infinity && h !== Infinity && l !== Infinity && c !== Infinity)) {
    for (const [i, x] of [[m.open, o], [m.high, h], [m.low, l], [m.close, c]]) {
      if (!Number.isFinite(x)) return { line, column: colName(i), value: fields[i], reason: "non-finite" };
      if (x <= 0) return { line, column: colName(i), value: fields[i], reason: "non-positive" };
    }
  }
  if (m.volume >= 0 && !(v >= 0 && v !== Infinity)) {
    return { line, column: colName(m.volume), value: fields[m.volume], reason: Number.isFinite(v) ? "negative-volume" : "non-finite" };
  }
  if (h < (o > c ? o : c)) return { line, column: colName(m.high), value: fields[m.high], reason: "ohlc-inconsistent" };
  if (l > (o < c ? o : c)) return { line, column: colName(m.low), value: fields[m.low], reason: "ohlc-inconsistent" };
  return undefined;
}
