import { expect } from "chai";
import { expectNear } from "../data/near.ts";
import type { PriceSeries } from "../../bot/data/index.ts";
import { loadDvol, loadPrices, loadRounds } from "../../bot/data/index.ts";
import { DEFAULT_STRESS_CONFIG, resolveStressConfig, stressSnapshot } from "../../bot/signals/index.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { sharedDataFile } from "../support/shared-data.ts";

/** Deterministic hourly random walk (LCG + Box-Muller), 1% hourly sd: calm by construction. */
function walk(n: number, seed: number, shock?: { at: number; logReturn: number }): PriceSeries {
  let s = seed >>> 0;
  const u = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const t = new Float64Array(n), close = new Float64Array(n);
  let p = 1000;
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    p *= Math.exp(0.01 * z + (shock && i === shock.at ? shock.logReturn : 0));
    t[i] = 1_700_000_000 + i * 3600;
    close[i] = p;
  }
  return { kind: "price", intervalSeconds: 3600, barTime: "point", t, open: close, high: close, low: close, close, volume: new Float64Array(n).fill(NaN), line: new Float64Array(n) };
}

describe("signals: stress snapshot", () => {
  const calm = walk(24 * 60, 7);
  const atEnd = calm.t[calm.t.length - 1];

  it("a calm random walk is calm, with every metric filled", () => {
    const s = stressSnapshot({ prices: calm }, atEnd);
    expect(s.level).to.equal("calm");
    expect(s.reasons).to.deep.equal([]);
    expectNear(s.metrics.realisedVol.closeToCloseLong!, 0.01 * Math.sqrt(8760), 0.1);
    expect(s.metrics.drawdown.map((d) => d.horizonSeconds)).to.deep.equal([3600, 86400, 604800]);
    expect(s.metrics.price.ageSeconds).to.equal(0);
    expect(s.metrics.oracle).to.equal(null);
  });

  it("same input -> the same snapshot, byte for byte", () => {
    const a = stressSnapshot({ prices: calm }, atEnd);
    const b = stressSnapshot({ prices: walk(24 * 60, 7) }, atEnd);
    expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
  });

  it("a 25% one-hour crash is critical, with drawdown and vol-ratio reasons", () => {
    const crash = walk(24 * 60, 7, { at: 24 * 60 - 3, logReturn: -0.29 });
    const s = stressSnapshot({ prices: crash }, crash.t[crash.t.length - 1]);
    expect(s.level).to.equal("critical");
    const signals = s.reasons.map((r) => `${r.signal}:${r.level}`);
    expect(signals).to.include("drawdown:critical");
    expect(signals).to.include("vol-ratio:critical");
    expect(s.reasons[0].level).to.equal("critical"); // worst first
  });

  it("never looks ahead: a crash after `at` does not change the snapshot", () => {
    const crashLater = walk(24 * 60, 7, { at: 24 * 60 - 3, logReturn: -0.29 });
    const at = calm.t[24 * 60 - 4];
    expect(stressSnapshot({ prices: crashLater }, at)).to.deep.equal(stressSnapshot({ prices: calm }, at));
  });

  it("a candle is used only once it has closed (barTime open)", () => {
    const candles: PriceSeries = { ...calm, kind: "ohlc", barTime: "open" };
    const s = stressSnapshot({ prices: candles }, atEnd);
    expect(s.metrics.price.last).to.equal(calm.close[calm.close.length - 2]);
    expect(s.metrics.price.lastAt).to.equal(new Date(atEnd * 1000).toISOString().replace(".000", ""));
  });

  it("stale data, a stale oracle and a deviating oracle raise their own reasons", () => {
    const last = calm.close[calm.close.length - 1];
    const oracle = { updatedAt: Float64Array.from([atEnd - 30 * 3600]), answer: Float64Array.from([last * 1.06]) };
    const s = stressSnapshot({ prices: calm, oracle }, atEnd + 13 * 3600);
    const byKind = Object.fromEntries(s.reasons.map((r) => [r.signal, r.level]));
    expect(byKind).to.deep.include({ "data-age": "stressed", "oracle-age": "critical", "oracle-deviation": "stressed" });
    expect(s.metrics.oracle).to.deep.include({ ageSeconds: 43 * 3600, stale: true });
  });

  it("notes inputs that have no data at `at` instead of raising on them", () => {
    const oracle = { updatedAt: Float64Array.from([atEnd + 10]), answer: Float64Array.from([1]) };
    const s = stressSnapshot({ prices: calm, oracle }, atEnd);
    expect(s.notes).to.have.length(1);
    expect(s.notes[0]).to.match(/^oracle: no answer at or before/);
    expect(s.level).to.equal("calm");
  });

  it("rejects a time before the data and a bad config, naming them", () => {
    try {
      stressSnapshot({ prices: calm }, calm.t[0] - 1);
      expect.fail("expected DATA_EMPTY");
    } catch (e) {
      expect(isRiskkeeperError(e, "DATA_EMPTY")).to.equal(true);
    }
    expect(() => resolveStressConfig({ vol: { ratio: { elevated: 3, stressed: 2, critical: 1 } } })).to.throw(/vol\.ratio: bands must be finite and increasing/);
    expect(() => resolveStressConfig({ vol: { ewmaLambda: 1 } })).to.throw(/vol\.ewmaLambda/);
    expect(resolveStressConfig()).to.deep.equal(DEFAULT_STRESS_CONFIG);
  });

  describe("on real data", () => {
    it("ETHUSDT on 2020-03-12 12:00 UTC is critical; a quiet day in 2019 is calm", async function () {
      const { series } = await loadPrices(sharedDataFile(this, "binance-spot-1h/ETHUSDT_1h.csv"));
      const crash = stressSnapshot({ prices: series }, Date.parse("2020-03-12T12:00:00Z") / 1000);
      expect(crash.level).to.equal("critical");
      expect(crash.reasons.some((r) => r.signal === "drawdown" && r.level === "critical")).to.equal(true);
      expect(stressSnapshot({ prices: series }, Date.parse("2019-06-01T00:00:00Z") / 1000).level).to.equal("calm");
    });

    it("ETH/USD oracle against Binance on 2023-08-17 22:00: fresh, close to the market, DVOL beside realised", async function () {
      const { series } = await loadPrices(sharedDataFile(this, "binance-spot-1h/ETHUSDT_1h.csv"));
      const { rounds } = await loadRounds(sharedDataFile(this, "chainlink-rounds/chainlink_eth_usd_rounds.csv"));
      const { series: dvol } = await loadDvol(sharedDataFile(this, "deribit-dvol/ETH_DVOL_1d.csv"));
      const s = stressSnapshot({ prices: series, oracle: rounds, implied: dvol }, Date.parse("2023-08-17T22:00:00Z") / 1000);
      expect(s.metrics.oracle).to.deep.include({ updatedAt: "2023-08-17T21:56:47Z", ageSeconds: 193, stale: false });
      expect(Math.abs(s.metrics.oracle!.deviation)).to.be.lessThan(0.02);
      expect(s.metrics.implied!.at).to.equal("2023-08-17T00:00:00Z"); // the 08-16 DVOL candle, closed at midnight
      expectNear(s.metrics.implied!.spread!, s.metrics.implied!.iv - s.metrics.implied!.realised!, 1e-6);
      expect(s.level).to.equal("critical");
    });
  });
});
