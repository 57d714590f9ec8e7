import { expect } from "chai";
import { loadReturns, sniffDataFile } from "../../bot/data/index.ts";
import { fixture } from "./fixture-path.ts";

describe("data/series: returns column and file sniffing", () => {
  it("loads a returns column by name; zero and negative returns are valid, non-finite are rejected", async () => {
    const { series, report } = await loadReturns(fixture("returns.csv"), { column: "return_pct" });
    expect(report).to.deep.equal({
      file: fixture("returns.csv"),
      column: "return_pct",
      timeColumn: null,
      timeFormat: null,
      rowsRead: 6,
      rowsKept: 4,
      rejected: { count: 2, list: [{ line: 4, value: "", reason: "non-finite" }, { line: 6, value: "x", reason: "non-finite" }] },
      stats: { mean: 0.375, sd: Math.sqrt(0.4375), min: -0.25, max: 1.25 },
    });
    expect(Array.from(series.values)).to.deep.equal([0.5, -0.25, 0, 1.25]);
    expect(series.t).to.equal(null);
  });

  it("names the missing returns column", async () => {
    try {
      await loadReturns(fixture("returns.csv"), { column: "ret" });
      expect.fail("expected an error");
    } catch (error) {
      expect((error as Error).message).to.match(/returns\.csv:1: no column 'ret' \(columns: index, return_pct\)/);
    }
  });

  it("tells file kinds apart by header", async () => {
    expect((await sniffDataFile(fixture("returns.csv"))).kind).to.equal("returns");
    expect((await sniffDataFile(fixture("rounds-camel.csv"))).kind).to.equal("rounds");
    expect((await sniffDataFile(fixture("clean-1h.csv"))).kind).to.equal("prices");
    expect((await sniffDataFile(fixture("binance-kline.csv"))).kind).to.equal("prices");
  });
});
