// Aave V2 LiquidationCall events (../shared/data/aave-v2-liquidations): typed rows and a report of
// the oddities its SOURCE.md lists (two amount formats, exact duplicate rows, rows without a USD
// value), plus the busiest days. Amounts are token units as floats: this is research data for
// stress calibration, never an on-chain amount.
import { RiskkeeperError } from "../errors.ts";
import { findColumn, openCsv } from "./csv.ts";
import { isoTime, parseTime } from "./time.ts";

export interface Liquidation {
  line: number;
  t: number;
  market: string;
  collateralSymbol: string;
  collateralAmount: number;
  debtSymbol: string;
  debtAmount: number;
  collateralValueEth: number;
  debtValueEth: number;
  /** NaN when the source has no USD value for the row. */
  debtValueUsd: number;
  exactDuplicate: boolean;
}

export interface LiquidationsReport {
  file: string;
  rowsRead: number;
  first: string | null;
  last: string | null;
  byMarket: Record<string, number>;
  byAmountSource: Record<string, number>;
  exactDuplicateRows: number;
  missingUsd: number;
  rejected: { count: number; list: { line: number; column: string; value: string }[] };
  busiestDays: { day: string; events: number; debtUsd: number }[];
}

const REQUIRED = ["unix_s", "market", "collateral_symbol", "collateral_amount", "debt_symbol", "debt_amount", "collateral_value_eth", "debt_value_eth", "debt_value_usd"];

/** Loads the Aave V2 liquidations file. */
export async function loadLiquidations(path: string, options: { maxRows?: number; listLimit?: number } = {}): Promise<{ rows: Liquidation[]; report: LiquidationsReport }> {
  const csv = await openCsv(path, { maxRows: options.maxRows });
  const h = csv.header;
  const idx: Record<string, number> = {};
  for (const name of REQUIRED) {
    idx[name] = findColumn(h, [name]);
    if (idx[name] < 0) throw new RiskkeeperError("DATA_MISSING_COLUMN", `no column '${name}'`, { input: `${path}:${csv.headerLine}` });
  }
  const dup = findColumn(h, ["exact_duplicate_row"]);
  const src = findColumn(h, ["amount_source"]);
  const limit = options.listLimit ?? 20;
  const rows: Liquidation[] = [];
  const report: LiquidationsReport = {
    file: path, rowsRead: 0, first: null, last: null, byMarket: {}, byAmountSource: {}, exactDuplicateRows: 0, missingUsd: 0, rejected: { count: 0, list: [] }, busiestDays: [],
  };
  const days = new Map<string, { events: number; debtUsd: number }>();
  let lastT = -Infinity;
  for await (const { line, fields } of csv.rows) {
    const input = `${path}:${line}`;
    report.rowsRead++;
    if (fields.length < h.length) throw new RiskkeeperError("DATA_BAD_VALUE", `expected ${h.length} fields, found ${fields.length}`, { input });
    const t = parseTime(fields[idx.unix_s], "unix_s");
    if (Number.isNaN(t)) throw new RiskkeeperError("DATA_BAD_VALUE", `unix_s '${fields[idx.unix_s]}' is not Unix seconds`, { input });
    if (t < lastT) throw new RiskkeeperError("DATA_TIME_ORDER", `time ${isoTime(t)} is before the previous row's ${isoTime(lastT)}`, { input });
    lastT = t;
    const num = (name: string): number => Number(fields[idx[name]]);
    const bad = ["collateral_amount", "debt_amount", "collateral_value_eth", "debt_value_eth"].find((n) => !(num(n) >= 0) || fields[idx[n]].trim() === "");
    if (bad) {
      report.rejected.count++;
      if (report.rejected.list.length < limit) report.rejected.list.push({ line, column: bad, value: fields[idx[bad]] });
      continue;
    }
    const usdText = fields[idx.debt_value_usd].trim();
    const row: Liquidation = {
      line, t, market: fields[idx.market], collateralSymbol: fields[idx.collateral_symbol], collateralAmount: num("collateral_amount"),
      debtSymbol: fields[idx.debt_symbol], debtAmount: num("debt_amount"), collateralValueEth: num("collateral_value_eth"), debtValueEth: num("debt_value_eth"),
      debtValueUsd: usdText === "" ? NaN : Number(usdText), exactDuplicate: dup >= 0 && fields[dup].trim() === "1",
    };
    rows.push(row);
    if (report.first === null) report.first = isoTime(t);
    report.last = isoTime(t);
    report.byMarket[row.market] = (report.byMarket[row.market] ?? 0) + 1;
    if (src >= 0) report.byAmountSource[fields[src]] = (report.byAmountSource[fields[src]] ?? 0) + 1;
    if (row.exactDuplicate) report.exactDuplicateRows++;
    if (Number.isNaN(row.debtValueUsd)) report.missingUsd++;
    const day = isoTime(t).slice(0, 10);
    const d = days.get(day) ?? { events: 0, debtUsd: 0 };
    d.events++;
    if (!Number.isNaN(row.debtValueUsd)) d.debtUsd += row.debtValueUsd;
    days.set(day, d);
  }
  if (report.rowsRead === 0) throw new RiskkeeperError("DATA_EMPTY", "no data rows after the header", { input: path });
  report.busiestDays = [...days.entries()]
    .map(([day, d]) => ({ day, events: d.events, debtUsd: Math.round(d.debtUsd) }))
    .sort((a, b) => b.debtUsd - a.debtUsd || a.day.localeCompare(b.day))
    .slice(0, 5);
  return { rows, report };
}
