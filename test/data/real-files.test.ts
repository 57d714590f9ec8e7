// The real shared files, read in place: each report must find what its SOURCE.md lists.
import { expect } from "chai";
import { expectNear } from "./near.ts";
import { compareDailySamples, loadDvol, loadGasDaily, loadLiquidations, loadPrices, loadReturns, loadRounds } from "../../bot/data/index.ts";
import { sharedDataFile } from "../support/shared-data.ts";

describe("data: real files in ../shared/data", function () {
  it("ETHUSDT 1h: 61,240 rows, 30 gaps / 128 missing hours (longest 33 h after 2018-02-08 00:00), 2 zero-volume candles", async function () {
    const { series, report } = await loadPrices(sharedDataFile(this, "binance-spot-1h/ETHUSDT_1h.csv"), { listLimit: 50 });
    expect(report.kind).to.equal("ohlcv");
    expect(report.columns.volume).to.equal("volume_base");
    expect(report.rowsRead).to.equal(61240);
    expect(report.rowsKept).to.equal(61240);
    expect([report.first, report.last]).to.deep.equal(["2018-01-01T00:00:00Z", "2024-12-31T23:00:00Z"]);
    expect(report.interval).to.deep.equal({ seconds: 3600, label: "1h", source: "inferred-median" });
    expect(report.duplicates.dropped).to.equal(0);
    expect(report.rejected.count).to.equal(0);
    expect(report.gaps.count).to.equal(30);
    expect(report.gaps.missingSteps).to.equal(128);
    expect(report.gaps.longest).to.include({ after: "2018-02-08T00:00:00Z", missing: 33 });
    // SOURCE.md: "2020-12-21 13:00 for ETH (4)" and the last gap "2023-03-24 12:00 (1)"
    expect(report.gaps.list.find((g) => g.after.startsWith("2020-12-21"))).to.include({ after: "2020-12-21T13:00:00Z", missing: 4 });
    expect(report.gaps.list[29]).to.include({ after: "2023-03-24T12:00:00Z", missing: 1 });
    expect(report.zeroVolume.list.map((z) => z.at)).to.deep.equal(["2021-02-11T03:00:00Z", "2023-03-24T12:00:00Z"]);
    // the largest hourly move: 2020-03-12 10:00, -21% close to close
    expect(report.largestMove).to.include({ at: "2020-03-12T10:00:00Z" });
    expectNear(Math.expm1(report.largestMove!.logReturn), -0.209, 0.001);
    expect(report.badTicks.list.map((b) => b.at)).to.deep.equal(["2018-01-08T14:00:00Z", "2020-03-13T01:00:00Z", "2020-03-13T03:00:00Z"]);
    expect(series.close.length).to.equal(61240);
  });

  it("BTCUSDT 1h resampled to 1d matches SOURCE.md's spot checks; 127 missing hours, 3 zero-volume candles", async function () {
    const { series, report } = await loadPrices(sharedDataFile(this, "binance-spot-1h/BTCUSDT_1h.csv"), { resampleSeconds: 86400 });
    expect(report.rowsKept).to.equal(61241);
    expect(report.gaps.count).to.equal(30);
    expect(report.gaps.missingSteps).to.equal(127);
    expect(report.zeroVolume.list.map((z) => z.at)).to.deep.equal(["2020-12-21T14:00:00Z", "2021-02-11T03:00:00Z", "2023-03-24T12:00:00Z"]);
    expect(report.resample).to.deep.equal({ seconds: 86400, label: "1d", buckets: 2557, emptyBuckets: 0, filled: 0 });
    const day = (iso: string): number[] => {
      const i = series.t.indexOf(Date.parse(`${iso}T00:00:00Z`) / 1000);
      return [series.open[i], series.high[i], series.low[i], series.close[i]];
    };
    expect(day("2020-03-12")).to.deep.equal([7934.52, 7966.17, 4410, 4800]);
    expect(day("2020-03-13")).to.deep.equal([4800, 5955, 3782.13, 5578.6]);
    expect(day("2021-05-19")).to.deep.equal([42849.78, 43584.9, 30000, 36690.09]);
    expect(day("2024-08-05")).to.deep.equal([58161, 58305.59, 49000, 54018.81]);
  });

  it("Chainlink ETH/USD rounds: phase 6 rounds 1..11106, none missing, median 3,024 s, max 3,720 s, 36 intervals over 3,660 s", async function () {
    const { rounds, report } = await loadRounds(sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_rounds.csv"), { heartbeatSeconds: 3600 });
    expect(report.decimals).to.deep.equal({ value: 8, source: "inferred" });
    expect(report.phases).to.deep.equal([{
      phaseId: 6, rounds: 11106, firstRound: 1, lastRound: 11106, firstUpdatedAt: "2023-04-05T22:38:35Z", lastUpdatedAt: "2024-01-29T19:55:23Z", missingRounds: 0,
    }]);
    expect(report.duplicates.dropped).to.equal(0);
    expect(report.rejected.count).to.equal(0);
    expect(report.answeredInEarlierRound.count).to.equal(0);
    expect(report.updateIntervals).to.deep.equal({ median: 3024, max: 3720, maxAt: "2023-08-28T14:55:35Z" });
    expect(report.heartbeat!.overWithGrace).to.equal(36);
    expectNear(Math.abs(Math.expm1(report.largestMove!.logReturn)), 0.033, 0.001);
    let min = Infinity, max = -Infinity;
    for (const a of rounds.answer) { min = Math.min(min, a); max = Math.max(max, a); }
    expect([Math.round(min * 100) / 100, Math.round(max * 100) / 100]).to.deep.equal([1527.55, 2715.03]);
  });

  it("Chainlink stETH/ETH: 18 decimals, rounds 159..903, 24 h heartbeat, min 0.935", async function () {
    const { rounds, report } = await loadRounds(sharedDataFile(this, "chainlink-rounds/chainlink_steth_eth_rounds.csv"), { heartbeatSeconds: 86400 });
    expect(report.decimals.value).to.equal(18);
    expect(report.phases[0]).to.include({ phaseId: 1, rounds: 745, firstRound: 159, lastRound: 903, missingRounds: 0 });
    expectNear(report.updateIntervals!.median, 86400, 60);
    expectNear(Math.min(...rounds.answer), 0.935, 0.0005);
  });

  it("Chainlink ETH/USD daily sample: the proxy served phase 5 until 2023-05-07, phase 6 from 2023-05-08, phase 7 from 2024-09-24", async function () {
    const { report } = await loadRounds(sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_daily_2359utc.csv"));
    expect(report.timeFormat).to.equal("iso8601_datetime");
    expect(report.rowsKept).to.equal(1066);
    expect(report.phases.map((p) => [p.phaseId, p.firstUpdatedAt.slice(0, 10), p.lastUpdatedAt.slice(0, 10)])).to.deep.equal([
      [5, "2023-01-24", "2023-05-07"],
      [6, "2023-05-08", "2024-09-23"],
      [7, "2024-09-24", "2025-12-24"],
    ]);
  });

  it("the phase migration: the proxy served phase 5 on 33 days (2023-04-05..05-07) that the phase-6 history covers; 266 days match", async function () {
    const full = (await loadRounds(sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_rounds.csv"))).rounds;
    const daily = (await loadRounds(sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_daily_2359utc.csv"))).rounds;
    expect(compareDailySamples(full, daily)).to.deep.equal({
      samplesInSpan: 299,
      matching: 266,
      differing: { count: 33, firstDay: "2023-04-05", lastDay: "2023-05-07", phases: { 5: 33 } },
    });
  });

  it("DVOL daily: 1,840 days, no gaps, no duplicates", async function () {
    for (const f of ["BTC", "ETH"]) {
      const { report } = await loadDvol(sharedDataFile(this, `deribit-dvol/${f}_DVOL_1d.csv`));
      expect(report.kind).to.equal("ohlc");
      expect(report.rowsKept).to.equal(1840);
      expect(report.gaps.count).to.equal(0);
      expect(report.duplicates.dropped).to.equal(0);
      expect([report.first, report.last]).to.deep.equal(["2021-03-24T00:00:00Z", "2026-04-06T00:00:00Z"]);
    }
  });

  it("gas daily: the 8 zero genesis days are rejected; three one-day average-price spikes are flagged", async function () {
    const { series, report } = await loadGasDaily(sharedDataFile(this, "eth-gas-daily/eth_gas_daily.csv"));
    expect(report.rowsRead).to.equal(3961);
    expect(report.rejected.count).to.equal(8);
    expect(report.rejected.list.map((r) => r.line)).to.deep.equal([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(report.first).to.equal("2015-08-07T00:00:00Z");
    expect(report.gaps.count).to.equal(0);
    // Not in SOURCE.md: a 13-40x average gas price for one day that reverts the next day.
    expect(report.badTicks.list.map((b) => b.at.slice(0, 10))).to.deep.equal(["2016-12-08", "2019-02-19", "2019-03-18"]);
    expect(series.close[series.close.length - 1]).to.equal(1.366607);
  });

  it("dem2gbp: 1,974 returns in percent", async function () {
    const { series, report } = await loadReturns(sharedDataFile(this, "dem2gbp/dem2gbp.csv"), { column: "return_pct" });
    expect(report.rowsKept).to.equal(1974);
    expect(series.values[0]).to.equal(0.12533286);
  });

  it("Aave V2 liquidations: 11,497 events, two markets, two formats, 13 duplicate rows, 951 without USD, busiest day 2021-05-19", async function () {
    const { report } = await loadLiquidations(sharedDataFile(this, "aave-v2-liquidations/aave_v2_liquidations.csv"));
    expect(report.rowsRead).to.equal(11497);
    expect(report.byMarket).to.deep.equal({ aave_v2_main: 11384, aave_v2_amm: 113 });
    expect(report.byAmountSource).to.deep.equal({ raw_units_scaled: 6231, as_published: 5266 });
    expect(report.exactDuplicateRows).to.equal(13);
    expect(report.missingUsd).to.equal(951);
    expect(report.busiestDays[0]).to.include({ day: "2021-05-19", events: 679 });
    expectNear(report.busiestDays[0].debtUsd, 157e6, 1e6);
  });
});
