// The price normaliser: a streaming accumulator that takes rows in file order and produces a clean,
// strictly increasing series (optionally resampled to a coarser interval) plus a plain JSON report
// of everything it saw: rows read, duplicates dropped, gaps, rejected values, zero-volume candles,
// suspected bad ticks and the largest move. It keeps O(1) state per row (plus the output columns
// when collecting), so it can inspect a file of any length in bounded memory.
import { RiskkeeperError } from "../errors.ts";
import { Float64Column } from "./columns.ts";
import { formatInterval, isoTime, type TimeFormat } from "./time.ts";

export type PriceKind = "price" | "ohlc" | "ohlcv";

/** A clean price series: strictly increasing `t` (Unix seconds), equal-length columns. */
export interface PriceSeries {
  kind: PriceKind;
  /** Interval between rows in seconds: the resample interval, or the native interval inferred. */
  intervalSeconds: number;
  /**
   * What `t` marks: "open" = the start of a bar whose close is known only at t + intervalSeconds
   * (candles, daily aggregates, resampled buckets); "point" = the time the price was observed.
   */
  barTime: "open" | "point";
  t: Float64Array;
  /** For `price` series open = high = low = close. */
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  /** NaN where the source has no volume. */
  volume: Float64Array;
  /** Source line of each row (for a resampled row: its last source row; 0 for a forward-filled row). */
  line: Float64Array;
}

export interface NormaliseOptions {
  /** Native spacing in seconds; inferred as the median of the first 64 steps when absent. */
  expectedIntervalSeconds?: number;
  /** A step longer than `gapFactor` x interval is a gap. Default 1.5. */
  gapFactor?: number;
  /** Resample to this interval in seconds (UTC-aligned buckets: first open, max high, min low, last close, summed volume). */
  resampleSeconds?: number;
  /** With resampling: leave empty buckets out ("none", default) or carry the last close ("forward"). */
  fill?: "none" | "forward";
  /** A one-step move larger than this (absolute log return) is a bad-tick candidate. Default 0.10. */
  badTickThreshold?: number;
  /** ...and it is flagged when the next step undoes at least this fraction of it. Default 0.8. */
  badTickRevert?: number;
  /** Maximum entries in each list of the report (counts are always complete). Default 20. */
  listLimit?: number;
  /** Keep the output columns (default true); false computes the report only, in constant memory. */
  collect?: boolean;
  /** Override what `t` marks (default: "open" for OHLC and resampled series, "point" for a price column). */
  barTime?: "open" | "point";
}

export interface LineAt {
  line: number;
  at: string;
}

export interface GapEntry {
  /** Last row before the gap. */
  after: string;
  afterLine: number;
  /** First row after the gap. */
  before: string;
  beforeLine: number;
  seconds: number;
  /** Whole intervals missing between the two rows. */
  missing: number;
}

export interface RejectedEntry {
  line: number;
  column: string;
  value: string;
  reason: "non-finite" | "non-positive" | "negative-volume" | "ohlc-inconsistent";
}

export interface BadTickEntry extends LineAt {
  /** Log return into the tick. */
  move: number;
  /** Log return out of it. */
  next: number;
}

/** The normaliser's evidence: plain JSON, stable field order. */
export interface NormaliseReport {
  file: string;
  kind: PriceKind;
  timeColumn: string;
  timeFormat: TimeFormat;
  columns: Record<string, string>;
  rowsRead: number;
  rowsKept: number;
  first: string | null;
  last: string | null;
  interval: { seconds: number; label: string; source: "given" | "inferred-median" } | null;
  duplicates: { dropped: number; conflicting: number; lines: number[] };
  gaps: { count: number; missingSteps: number; longest: GapEntry | null; list: GapEntry[] };
  rejected: { count: number; list: RejectedEntry[] };
  zeroVolume: { count: number; list: LineAt[] };
  badTicks: { threshold: number; revert: number; count: number; list: BadTickEntry[] };
  largestMove: (LineAt & { logReturn: number }) | null;
  resample: { seconds: number; label: string; buckets: number; emptyBuckets: number; filled: number } | null;
}

interface Buffered { t: number; line: number }

const INFER_STEPS = 64;

/** Rounds for the report so that the JSON stays readable and stable. */
function r6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** Streaming normaliser; see the module comment. Use `loadPrices` for files. */
export class PriceNormaliser {
  readonly #opts: Required<Omit<NormaliseOptions, "expectedIntervalSeconds" | "resampleSeconds" | "barTime">> & { resampleSeconds?: number; barTime?: "open" | "point" };
  readonly #report: NormaliseReport;
  #interval: number | undefined;
  #pending: Buffered[] = [];
  // last kept row
  #lastT = NaN;
  #lastLine = 0;
  #lastO = NaN; #lastH = NaN; #lastL = NaN; #lastC = NaN; #lastV = NaN;
  // bad-tick window: close and line two rows back
  #prevC = NaN;
  #largestAbs = -1;
  // output
  readonly #cols: Float64Column[] | undefined;
  #bucket = NaN;
  #bO = NaN; #bH = NaN; #bL = NaN; #bC = NaN; #bV = NaN; #bLine = 0;

  constructor(meta: { file: string; kind: PriceKind; timeColumn: string; timeFormat: TimeFormat; columns: Record<string, string> }, options: NormaliseOptions = {}) {
    const o = options;
    if (o.resampleSeconds !== undefined && !(o.resampleSeconds > 0)) {
      throw new RiskkeeperError("INPUT_INVALID", `resample interval must be > 0 s, got ${o.resampleSeconds}`, { input: "resampleSeconds" });
    }
    if (o.expectedIntervalSeconds !== undefined && !(o.expectedIntervalSeconds > 0)) {
      throw new RiskkeeperError("INPUT_INVALID", `expected interval must be > 0 s, got ${o.expectedIntervalSeconds}`, { input: "expectedIntervalSeconds" });
    }
    this.#opts = {
      gapFactor: o.gapFactor ?? 1.5,
      fill: o.fill ?? "none",
      badTickThreshold: o.badTickThreshold ?? 0.1,
      badTickRevert: o.badTickRevert ?? 0.8,
      listLimit: o.listLimit ?? 20,
      collect: o.collect ?? true,
      resampleSeconds: o.resampleSeconds,
      barTime: o.barTime,
    };
    this.#interval = o.expectedIntervalSeconds;
    this.#cols = this.#opts.collect ? [0, 1, 2, 3, 4, 5, 6].map(() => new Float64Column()) : undefined;
    this.#report = {
      file: meta.file,
      kind: meta.kind,
      timeColumn: meta.timeColumn,
      timeFormat: meta.timeFormat,
      columns: meta.columns,
      rowsRead: 0,
      rowsKept: 0,
      first: null,
      last: null,
      interval: o.expectedIntervalSeconds !== undefined
        ? { seconds: o.expectedIntervalSeconds, label: formatInterval(o.expectedIntervalSeconds), source: "given" }
        : null,
      duplicates: { dropped: 0, conflicting: 0, lines: [] },
      gaps: { count: 0, missingSteps: 0, longest: null, list: [] },
      rejected: { count: 0, list: [] },
      zeroVolume: { count: 0, list: [] },
      badTicks: { threshold: this.#opts.badTickThreshold, revert: this.#opts.badTickRevert, count: 0, list: [] },
      largestMove: null,
      resample: o.resampleSeconds !== undefined
        ? { seconds: o.resampleSeconds, label: formatInterval(o.resampleSeconds), buckets: 0, emptyBuckets: 0, filled: 0 }
        : null,
    };
  }

  /** Records a row that was read but rejected by the loader for a bad value. */
  reject(entry: RejectedEntry): void {
    this.#report.rowsRead++;
    this.#report.rejected.count++;
    if (this.#report.rejected.list.length < this.#opts.listLimit) this.#report.rejected.list.push(entry);
  }

  /**
   * Adds one parsed, value-checked row. Throws DATA_TIME_ORDER (naming `file`:`line`) when `t` goes back.
   */
  push(line: number, t: number, o: number, h: number, l: number, c: number, v: number, file: string): void {
    const rep = this.#report;
    rep.rowsRead++;
    if (rep.rowsKept > 0) {
      if (t < this.#lastT) {
        throw new RiskkeeperError("DATA_TIME_ORDER", `timestamp ${isoTime(t)} is earlier than ${isoTime(this.#lastT)} on line ${this.#lastLine}; rows must be sorted by time`, {
          input: `${file}:${line}`,
          details: { line, previousLine: this.#lastLine },
        });
      }
      if (t === this.#lastT) {
        rep.duplicates.dropped++;
        const same = Object.is(o, this.#lastO) && Object.is(h, this.#lastH) && Object.is(l, this.#lastL) && Object.is(c, this.#lastC) && Object.is(v, this.#lastV);
        if (!same) rep.duplicates.conflicting++;
        if (rep.duplicates.lines.length < this.#opts.listLimit) rep.duplicates.lines.push(line);
        return;
      }
      // largest move and bad ticks (on the close)
      const ret = Math.log(c / this.#lastC);
      if (Math.abs(ret) > this.#largestAbs) {
        this.#largestAbs = Math.abs(ret);
        rep.largestMove = { line, at: isoTime(t), logReturn: r6(ret) };
      }
      if (!Number.isNaN(this.#prevC)) {
        const move = Math.log(this.#lastC / this.#prevC);
        if (Math.abs(move) > this.#opts.badTickThreshold && move * ret < 0 && -ret / move >= this.#opts.badTickRevert) {
          rep.badTicks.count++;
          if (rep.badTicks.list.length < this.#opts.listLimit) {
            rep.badTicks.list.push({ line: this.#lastLine, at: isoTime(this.#lastT), move: r6(move), next: r6(ret) });
          }
        }
      }
      this.#step(this.#lastT, this.#lastLine, t, line);
    } else {
      rep.first = isoTime(t);
      this.#pending.push({ t, line });
    }
    if (v === 0) {
      rep.zeroVolume.count++;
      if (rep.zeroVolume.list.length < this.#opts.listLimit) rep.zeroVolume.list.push({ line, at: isoTime(t) });
    }
    rep.rowsKept++;
    this.#prevC = this.#lastC;
    this.#lastT = t; this.#lastLine = line;
    this.#lastO = o; this.#lastH = h; this.#lastL = l; this.#lastC = c; this.#lastV = v;
    this.#emit(line, t, o, h, l, c, v);
  }

  /** Handles the step from the previous kept row to this one (gap detection). */
  #step(t0: number, line0: number, t1: number, line1: number): void {
    if (this.#interval === undefined) {
      this.#pending.push({ t: t1, line: line1 });
      if (this.#pending.length > INFER_STEPS) this.#inferInterval();
      return;
    }
    this.#checkGap(t0, line0, t1, line1);
  }

  #inferInterval(): void {
    const p = this.#pending;
    const diffs: number[] = [];
    for (let i = 1; i < p.length; i++) diffs.push(p[i].t - p[i - 1].t);
    diffs.sort((a, b) => a - b);
    const mid = diffs.length >> 1;
    const median = diffs.length % 2 ? diffs[mid] : (diffs[mid - 1] + diffs[mid]) / 2;
    this.#interval = median;
    this.#report.interval = { seconds: median, label: formatInterval(median), source: "inferred-median" };
    for (let i = 1; i < p.length; i++) this.#checkGap(p[i - 1].t, p[i - 1].line, p[i].t, p[i].line);
    this.#pending = [];
  }

  #checkGap(t0: number, line0: number, t1: number, line1: number): void {
    const interval = this.#interval as number;
    const dt = t1 - t0;
    if (dt <= interval * this.#opts.gapFactor) return;
    const gaps = this.#report.gaps;
    const entry: GapEntry = {
      after: isoTime(t0),
      afterLine: line0,
      before: isoTime(t1),
      beforeLine: line1,
      seconds: dt,
      missing: Math.max(1, Math.round(dt / interval) - 1),
    };
    gaps.count++;
    gaps.missingSteps += entry.missing;
    if (!gaps.longest || entry.seconds > gaps.longest.seconds) gaps.longest = entry;
    if (gaps.list.length < this.#opts.listLimit) gaps.list.push(entry);
  }

  #emit(line: number, t: number, o: number, h: number, l: number, c: number, v: number): void {
    const rs = this.#opts.resampleSeconds;
    if (rs === undefined) {
      this.#write(t, o, h, l, c, v, line);
      return;
    }
    const b = Math.floor(t / rs) * rs;
    if (b === this.#bucket) {
      if (h > this.#bH) this.#bH = h;
      if (l < this.#bL) this.#bL = l;
      this.#bC = c;
      this.#bV += v;
      this.#bLine = line;
      return;
    }
    if (!Number.isNaN(this.#bucket)) {
      this.#flushBucket();
      const rep = this.#report.resample!;
      const empty = Math.round((b - this.#bucket) / rs) - 1;
      rep.emptyBuckets += empty;
      if (this.#opts.fill === "forward") {
        for (let k = 1; k <= empty; k++) {
          const c0 = this.#bC;
          this.#write(this.#bucket + k * rs, c0, c0, c0, c0, Number.isNaN(this.#bV) ? NaN : 0, 0);
          rep.filled++;
          rep.buckets++;
        }
      }
    }
    this.#bucket = b;
    this.#bO = o; this.#bH = h; this.#bL = l; this.#bC = c; this.#bV = v; this.#bLine = line;
  }

  #flushBucket(): void {
    this.#write(this.#bucket, this.#bO, this.#bH, this.#bL, this.#bC, this.#bV, this.#bLine);
    this.#report.resample!.buckets++;
  }

  #write(t: number, o: number, h: number, l: number, c: number, v: number, line: number): void {
    const cols = this.#cols;
    if (!cols) return;
    cols[0].push(t); cols[1].push(o); cols[2].push(h); cols[3].push(l); cols[4].push(c); cols[5].push(v); cols[6].push(line);
  }

  /** Ends the stream: flushes the last bucket and returns the report and (when collecting) the series. */
  finish(): { report: NormaliseReport; series: PriceSeries | undefined } {
    if (this.#interval === undefined && this.#pending.length > 1) this.#inferInterval();
    if (this.#opts.resampleSeconds !== undefined && !Number.isNaN(this.#bucket)) {
      this.#flushBucket();
      this.#bucket = NaN;
    }
    const rep = this.#report;
    rep.last = rep.rowsKept > 0 ? isoTime(this.#lastT) : null;
    let series: PriceSeries | undefined;
    if (this.#cols) {
      const [t, open, high, low, close, volume, line] = this.#cols.map((c) => c.toArray());
      series = {
        kind: rep.kind,
        intervalSeconds: this.#opts.resampleSeconds ?? this.#interval ?? NaN,
        barTime: this.#opts.barTime ?? (this.#opts.resampleSeconds !== undefined || rep.kind !== "price" ? "open" : "point"),
        t, open, high, low, close, volume, line,
      };
    }
    return { report: rep, series };
  }
}
