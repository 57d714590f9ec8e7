// Hand-made files, one per defect, each with the exact report the normaliser must produce.
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadPrices, normalisePriceFile, type NormaliseReport } from "../../bot/data/index.ts";
import { isRiskkeeperError, type RiskkeeperErrorCode } from "../../bot/errors.ts";
import { fixture } from "./fixture-path.ts";

const OHLCV = { open: "open", high: "high", low: "low", close: "close", volume: "volume" };
const H = { seconds: 3600, label: "1h", source: "inferred-median" } as const;

/** The report of a clean file; each test overrides what its defect changes. */
function report(file: string, over: Partial<NormaliseReport>): NormaliseReport {
  return {
    file: fixture(file),
    kind: "ohlcv",
    timeColumn: "timestamp",
    timeFormat: "iso8601_datetime",
    columns: OHLCV,
    rowsRead: 0,
    rowsKept: 0,
    first: null,
    last: null,
    interval: H,
    duplicates: { dropped: 0, conflicting: 0, lines: [] },
    gaps: { count: 0, missingSteps: 0, longest: null, list: [] },
    rejected: { count: 0, list: [] },
    zeroVolume: { count: 0, list: [] },
    badTicks: { threshold: 0.1, revert: 0.8, count: 0, list: [] },
    largestMove: null,
    resample: null,
    ...over,
  };
}

async function expectError(promise: Promise<unknown>, code: RiskkeeperErrorCode, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(isRiskkeeperError(error, code), `expected ${code}, got ${String(error)}`).to.equal(true);
    expect((error as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe("data/prices: loader and normaliser", () => {
  it("clean hourly OHLCV with ISO timestamps", async () => {
    const { series, report: r } = await loadPrices(fixture("clean-1h.csv"));
    expect(r).to.deep.equal(report("clean-1h.csv", {
      rowsRead: 6, rowsKept: 6, first: "2024-01-01T00:00:00Z", last: "2024-01-01T05:00:00Z",
      largestMove: { line: 7, at: "2024-01-01T05:00:00Z", logReturn: -0.022473 },
    }));
    expect(Array.from(series.close)).to.deep.equal([100.5, 101, 100.8, 102.9, 103.5, 101.2]);
    expect(Array.from(series.high)).to.deep.equal([101, 102, 101.5, 103, 104, 103.6]);
    expect(series.t[1] - series.t[0]).to.equal(3600);
    expect(series.intervalSeconds).to.equal(3600);
    expect(Array.from(series.line)).to.deep.equal([2, 3, 4, 5, 6, 7]);
  });

  it("drops duplicate timestamps, keeping the first, and counts conflicting copies", async () => {
    const { series, report: r } = await loadPrices(fixture("duplicates.csv"));
    expect(r).to.deep.equal(report("duplicates.csv", {
      kind: "price", timeColumn: "unix_s", timeFormat: "unix_s", columns: { price: "price" },
      rowsRead: 6, rowsKept: 4, first: "2024-01-01T00:00:00Z", last: "2024-01-01T03:00:00Z",
      duplicates: { dropped: 2, conflicting: 1, lines: [4, 6] },
      largestMove: { line: 3, at: "2024-01-01T01:00:00Z", logReturn: 0.00995 },
    }));
    expect(Array.from(series.close)).to.deep.equal([100, 101, 102, 103]);
    expect(Array.from(series.open)).to.deep.equal([100, 101, 102, 103]); // a price series has O=H=L=C
  });

  it("reports gaps: count, missing steps, the longest and where", async () => {
    const { report: r } = await loadPrices(fixture("gaps.csv"));
    const small = { after: "2024-01-01T01:00:00Z", afterLine: 3, before: "2024-01-01T03:00:00Z", beforeLine: 4, seconds: 7200, missing: 1 };
    const big = { after: "2024-01-01T04:00:00Z", afterLine: 5, before: "2024-01-01T08:00:00Z", beforeLine: 6, seconds: 14400, missing: 3 };
    expect(r).to.deep.equal(report("gaps.csv", {
      timeColumn: "timestamp_utc", columns: { ...OHLCV, volume: "volume_base" },
      rowsRead: 6, rowsKept: 6, first: "2024-01-01T00:00:00Z", last: "2024-01-01T09:00:00Z",
      gaps: { count: 2, missingSteps: 4, longest: big, list: [small, big] },
      largestMove: { line: 3, at: "2024-01-01T01:00:00Z", logReturn: 0 },
    }));
  });

  it("rejects non-finite, non-positive, negative-volume and inconsistent OHLC rows with their lines", async () => {
    const { series, report: r } = await loadPrices(fixture("bad-values.csv"), { expectedIntervalSeconds: 3600 });
    expect(r).to.deep.equal(report("bad-values.csv", {
      rowsRead: 11, rowsKept: 2, first: "2024-01-01T00:00:00Z", last: "2024-01-01T10:00:00Z",
      interval: { seconds: 3600, label: "1h", source: "given" },
      gaps: {
        count: 1, missingSteps: 9,
        longest: { after: "2024-01-01T00:00:00Z", afterLine: 2, before: "2024-01-01T10:00:00Z", beforeLine: 12, seconds: 36000, missing: 9 },
        list: [{ after: "2024-01-01T00:00:00Z", afterLine: 2, before: "2024-01-01T10:00:00Z", beforeLine: 12, seconds: 36000, missing: 9 }],
      },
      rejected: {
        count: 9,
        list: [
          { line: 3, column: "close", value: "abc", reason: "non-finite" },
          { line: 4, column: "close", value: "", reason: "non-finite" },
          { line: 5, column: "close", value: "NaN", reason: "non-finite" },
          { line: 6, column: "close", value: "Infinity", reason: "non-finite" },
          { line: 7, column: "low", value: "0", reason: "non-positive" },
          { line: 8, column: "open", value: "-10", reason: "non-positive" },
          { line: 9, column: "volume", value: "-1", reason: "negative-volume" },
          { line: 10, column: "high", value: "9.5", reason: "ohlc-inconsistent" },
          { line: 11, column: "low", value: "10.5", reason: "ohlc-inconsistent" },
        ],
      },
      largestMove: { line: 12, at: "2024-01-01T10:00:00Z", logReturn: 0.04879 },
    }));
    expect(Array.from(series.close)).to.deep.equal([10, 10.5]);
  });

  it("caps the rejected list but keeps the count complete", async () => {
    const { report: r } = await loadPrices(fixture("bad-values.csv"), { listLimit: 2 });
    expect(r.rejected.count).to.equal(9);
    expect(r.rejected.list.map((x) => x.line)).to.deep.equal([3, 4]);
  });

  it("counts zero-volume candles and keeps them", async () => {
    const { series, report: r } = await loadPrices(fixture("zero-volume.csv"));
    expect(r).to.deep.equal(report("zero-volume.csv", {
      timeColumn: "unix_s", timeFormat: "unix_s",
      rowsRead: 4, rowsKept: 4, first: "2024-01-01T00:00:00Z", last: "2024-01-01T03:00:00Z",
      zeroVolume: { count: 2, list: [{ line: 3, at: "2024-01-01T01:00:00Z" }, { line: 5, at: "2024-01-01T03:00:00Z" }] },
      largestMove: { line: 4, at: "2024-01-01T02:00:00Z", logReturn: 0.04879 },
    }));
    expect(series.t.length).to.equal(4);
  });

  it("flags a spike that reverts within one step, not a drop that stays, and removes neither", async () => {
    const { series, report: r } = await loadPrices(fixture("bad-tick.csv"));
    expect(r).to.deep.equal(report("bad-tick.csv", {
      kind: "price", timeColumn: "unix_ms", timeFormat: "unix_ms", columns: { price: "price" },
      rowsRead: 8, rowsKept: 8, first: "2024-01-01T00:00:00Z", last: "2024-01-01T00:07:00Z",
      interval: { seconds: 60, label: "1m", source: "inferred-median" },
      badTicks: { threshold: 0.1, revert: 0.8, count: 1, list: [{ line: 4, at: "2024-01-01T00:02:00Z", move: 0.395515, next: -0.390576 }] },
      largestMove: { line: 4, at: "2024-01-01T00:02:00Z", logReturn: 0.395515 },
    }));
    expect(series.close[2]).to.equal(150);
  });

  it("reads ISO dates, OHLC without volume, in any column order", async () => {
    const { report: r } = await loadPrices(fixture("iso-date.csv"));
    expect(r).to.deep.equal(report("iso-date.csv", {
      kind: "ohlc", timeColumn: "date_utc", timeFormat: "iso8601_date", columns: { open: "open", high: "high", low: "low", close: "close" },
      rowsRead: 4, rowsKept: 4, first: "2024-02-27T00:00:00Z", last: "2024-03-01T00:00:00Z",
      interval: { seconds: 86400, label: "1d", source: "inferred-median" },
      largestMove: { line: 3, at: "2024-02-28T00:00:00Z", logReturn: 0.039221 },
    }));
  });

  it("recognises a header-less Binance kline dump with microsecond open times", async () => {
    const { series, report: r } = await loadPrices(fixture("binance-kline.csv"));
    expect(r.timeColumn).to.equal("open_time");
    expect(r.timeFormat).to.equal("unix_us");
    expect(r.rowsKept).to.equal(3);
    expect(r.first).to.equal("2025-01-01T00:00:00Z");
    expect(Array.from(series.volume)).to.deep.equal([5032.9114, 4291.2781, 3532.0133]);
    expect(Array.from(series.line)).to.deep.equal([1, 2, 3]);
  });

  it("handles a BOM, CRLF, blank lines and quoted fields (CryptoDataDownload-style headers)", async () => {
    const { report: r } = await loadPrices(fixture("crlf-bom-quoted.csv"));
    expect(r.timeColumn).to.equal("Date");
    expect(r.columns).to.deep.equal({ open: "Open", high: "High", low: "Low", close: "Close", volume: "Volume ETH" });
    expect(r.rejected).to.deep.equal({ count: 1, list: [{ line: 2, column: "Volume ETH", value: "1,5", reason: "non-finite" }] });
    expect(r.rowsKept).to.equal(1);
    expect(r.first).to.equal("2024-01-01T01:00:00Z");
  });

  it("resamples to UTC buckets: first open, max high, min low, last close, summed volume", async () => {
    const { series, report: r } = await loadPrices(fixture("clean-1h.csv"), { resampleSeconds: 7200 });
    expect(r.resample).to.deep.equal({ seconds: 7200, label: "2h", buckets: 3, emptyBuckets: 0, filled: 0 });
    expect(Array.from(series.open)).to.deep.equal([100, 101, 102.9]);
    expect(Array.from(series.high)).to.deep.equal([102, 103, 104]);
    expect(Array.from(series.low)).to.deep.equal([99, 100.2, 101]);
    expect(Array.from(series.close)).to.deep.equal([101, 102.9, 101.2]);
    expect(Array.from(series.volume)).to.deep.equal([22, 28, 24]);
    expect(Array.from(series.line)).to.deep.equal([3, 5, 7]);
    expect(series.intervalSeconds).to.equal(7200);
  });

  it("leaves empty buckets out, or forward-fills the last close with zero volume", async () => {
    const none = await loadPrices(fixture("gaps.csv"), { resampleSeconds: 7200 });
    expect(none.report.resample).to.deep.equal({ seconds: 7200, label: "2h", buckets: 4, emptyBuckets: 1, filled: 0 });
    const filled = await loadPrices(fixture("gaps.csv"), { resampleSeconds: 7200, fill: "forward" });
    expect(filled.report.resample).to.deep.equal({ seconds: 7200, label: "2h", buckets: 5, emptyBuckets: 1, filled: 1 });
    expect(Array.from(filled.series.t).map((t) => (t - 1704067200) / 3600)).to.deep.equal([0, 2, 4, 6, 8]);
    expect(filled.series.volume[3]).to.equal(0);
    expect(filled.series.line[3]).to.equal(0);
  });

  it("computes the same report without keeping the series (collect: false)", async () => {
    const full = await loadPrices(fixture("gaps.csv"));
    const lean = await normalisePriceFile(fixture("gaps.csv"), { collect: false });
    expect(lean.series).to.equal(undefined);
    expect(lean.report).to.deep.equal(full.report);
  });

  describe("bad input stops with an error naming the file and line", () => {
    const cases: { file: string; options?: object; code: RiskkeeperErrorCode; message: RegExp }[] = [
      { file: "out-of-order.csv", code: "DATA_TIME_ORDER", message: /out-of-order\.csv:4: timestamp 2024-01-01T01:00:00Z is earlier than 2024-01-01T02:00:00Z on line 3/ },
      { file: "mixed-time.csv", code: "DATA_BAD_VALUE", message: /mixed-time\.csv:4: column 'timestamp': '2024-01-01T02:00:00Z' is not a valid unix_s time/ },
      { file: "bad-time.csv", code: "DATA_BAD_VALUE", message: /bad-time\.csv:3: .*'2024-02-30T00:00:00Z' is not a valid iso8601_datetime time/ },
      { file: "missing-column.csv", code: "DATA_MISSING_COLUMN", message: /missing-column\.csv:1: has 'close' but no low/ },
      { file: "no-time.csv", code: "DATA_MISSING_COLUMN", message: /no-time\.csv:1: no timestamp column/ },
      { file: "empty.csv", code: "DATA_EMPTY", message: /empty\.csv: file is empty/ },
      { file: "header-only.csv", code: "DATA_EMPTY", message: /header-only\.csv: no data rows/ },
      { file: "does-not-exist.csv", code: "DATA_EMPTY", message: /does-not-exist\.csv: cannot read file \(ENOENT\)/ },
      { file: "short-row.csv", code: "DATA_BAD_VALUE", message: /short-row\.csv:3: expected at least 5 fields, found 3/ },
      { file: "clean-1h.csv", options: { priceColumn: "mid" }, code: "DATA_MISSING_COLUMN", message: /no column 'mid'/ },
      { file: "gaps.csv", options: { maxRows: 3 }, code: "DATA_TOO_LARGE", message: /gaps\.csv:5: more than 3 data rows/ },
    ];
    for (const c of cases) {
      it(`${c.file}${c.options ? ` ${JSON.stringify(c.options)}` : ""} -> ${c.code}`, async () => {
        await expectError(loadPrices(fixture(c.file), c.options), c.code, c.message);
      });
    }

    it("DATA_BAD_VALUE for a line longer than 1 MiB (not a CSV), without reading it all into memory", async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), "riskkeeper-csv-"));
      const file = path.join(dir, "no-newlines.csv");
      writeFileSync(file, `timestamp,price\n${"9".repeat(3 << 20)}`);
      try {
        await expectError(loadPrices(file), "DATA_BAD_VALUE", /no-newlines\.csv:2: line 2 is longer than 1048576 characters/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("DATA_EMPTY with the report when every row is rejected", async () => {
      await expectError(loadPrices(fixture("all-rejected.csv")), "DATA_EMPTY", /all-rejected\.csv: all 2 data rows were rejected \(first: line 2, non-positive\)/);
    });
  });
});
