// The market history the pipeline calibrates on, seen as of a time: only bars whose close is known
// at `now` (a candle stamped with its open time is known one interval later). Pure views over a
// series loaded once; the same object serves the live keeper and a replay.
import { lastIndexAtOrBefore } from "../data/columns.ts";
import type { PriceSeries } from "../data/normalise.ts";
import { stressSnapshot, type OracleHistory, type StressConfigInput } from "../signals/index.ts";
import { RiskkeeperError } from "../errors.ts";
import type { JsonValue } from "./state.ts";
import type { MarketHistoryView } from "./pipeline.ts";

export interface SeriesHistoryOptions {
  /** Where the series came from (file path or "generated"), for the evidence. */
  source: string;
  /** The normaliser's report of the file, if loaded from one. */
  report?: JsonValue;
  stressConfig?: StressConfigInput;
  /** The oracle's own rounds (a feed history's): the stress snapshot judges their age and deviation too. */
  oracle?: OracleHistory;
}

/** A series seen as of a time: what the gates read (SeriesHistory, FeedHistory). */
export interface KnownSeries {
  readonly series: PriceSeries;
  /** Index of the last bar whose close is known at `nowSeconds` (-1: none). */
  lastKnownIndex(nowSeconds: number): number;
}

export class SeriesHistory implements MarketHistoryView, KnownSeries {
  readonly series: PriceSeries;
  readonly #lag: number;
  readonly #logClose: Float64Array;
  readonly #o: SeriesHistoryOptions;

  constructor(series: PriceSeries, options: SeriesHistoryOptions) {
    if (series.close.length < 2) throw new RiskkeeperError("DATA_EMPTY", `${series.close.length} prices`, { input: options.source });
    this.series = series;
    this.#o = options;
    this.#lag = series.barTime === "open" ? series.intervalSeconds : 0;
    this.#logClose = series.close.map(Math.log);
  }

  /** Index of the last bar whose close is known at `nowSeconds` (-1: none). */
  lastKnownIndex(nowSeconds: number): number {
    return lastIndexAtOrBefore(this.series.t, nowSeconds - this.#lag);
  }

  /** Unix seconds at which bar `i`'s close became known. */
  knownAt(i: number): number {
    return this.series.t[i] + this.#lag;
  }

  returnsAt(nowSeconds: number): Float64Array {
    const last = this.lastKnownIndex(nowSeconds);
    if (last < 1) throw new RiskkeeperError("DATA_EMPTY", `fewer than 2 prices known at ${new Date(nowSeconds * 1000).toISOString()}`, { input: this.#o.source });
    const out = new Float64Array(last);
    for (let i = 1; i <= last; i++) out[i - 1] = this.#logClose[i] - this.#logClose[i - 1];
    return out;
  }

  reportAt(nowSeconds: number): JsonValue {
    const last = this.lastKnownIndex(nowSeconds);
    return {
      source: this.#o.source,
      intervalSeconds: this.series.intervalSeconds,
      rowsKnown: last + 1,
      firstBar: new Date(this.series.t[0] * 1000).toISOString(),
      lastKnownBar: last >= 0 ? new Date(this.series.t[last] * 1000).toISOString() : null,
      lastClose: last >= 0 ? this.series.close[last] : null,
      report: this.#o.report ?? null,
    };
  }

  stressAt(nowSeconds: number): { level: "calm" | "elevated" | "stressed" | "critical"; reasons: string[] } {
    const snap = stressSnapshot({ prices: this.series, ...(this.#o.oracle ? { oracle: this.#o.oracle } : {}) }, nowSeconds, this.#o.stressConfig ?? {});
    return { level: snap.level, reasons: snap.reasons.map((r) => `[${r.level}] ${r.message}`) };
  }
}
