// Test helpers for the model tests: read the shared data files in place (never copied).
import { readFileSync } from "node:fs";

/** Numeric column `column` of a simple CSV (no quoted commas). */
export function readCsvColumn(file: string, column: string): number[] {
  const lines = readFileSync(file, "utf8").trim().split(/\r?\n/);
  const header = lines[0].split(",");
  const idx = header.indexOf(column);
  if (idx < 0) throw new Error(`${file}: no column ${column}`);
  return lines.slice(1).map((line) => Number(line.split(",")[idx]));
}

export interface Candle { day: string; close: number }

/** Hourly closes of a binance-spot-1h file, with the UTC day of each candle. */
export function readBinanceCloses(file: string): Candle[] {
  const lines = readFileSync(file, "utf8").trim().split(/\r?\n/);
  const header = lines[0].split(",");
  const iT = header.indexOf("timestamp_utc"), iC = header.indexOf("close");
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    return { day: cells[iT].slice(0, 10), close: Number(cells[iC]) };
  });
}

export function logReturns(prices: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < prices.length; i++) out.push(Math.log(prices[i] / prices[i - 1]));
  return out;
}

/** Close of the last candle of each UTC day. */
export function dailyCloses(candles: readonly Candle[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < candles.length; i++) {
    if (i === candles.length - 1 || candles[i + 1].day !== candles[i].day) out.push(candles[i].close);
  }
  return out;
}
