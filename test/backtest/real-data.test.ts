// The default policies on the real Binance ETH and BTC hourly series, 2018-2024 (read in place
// from ../shared/data). These are the acceptance criteria of docs/backtest.md: green zone,
// Kupiec p > 0.05, cheaper than the smallest static buffer with the same coverage, and a smaller
// largest 5-day rise than the unbounded model.
import { expect } from "chai";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runWalkForward } from "../../bot/backtest/walk-forward.ts";
import { loadPolicy, loadSeries } from "../../bot/commands/backtest-input.ts";
import { sharedDataFile } from "../support/shared-data.ts";

const policies = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "policies");

for (const asset of ["ETHUSDT", "BTCUSDT"]) {
  describe(`backtest on real ${asset} hourly data`, () => {
    it("default-1h at 99%: green, Kupiec p > 0.05, cheaper than static, calmer than unbounded", async function () {
      const file = sharedDataFile(this, `binance-spot-1h/${asset}_1h.csv`);
      const series = await loadSeries(file);
      const r = runWalkForward(series, loadPolicy(path.join(policies, "default-1h.json")), { z2Simulations: 200, records: false });
      expect(r.confidence).to.equal(0.99);
      expect(r.trafficLight.overall).to.equal("green");
      expect(r.kupiec.pValue).to.be.greaterThan(0.05);
      expect(r.meanBufferBps).to.be.lessThan(r.static.meanBufferBps);
      expect(r.procyclicality.largestIncreaseBps.d5).to.be.lessThan(r.unbounded.procyclicality.largestIncreaseBps.d5);
    });
    it("default-1d runs on the same data resampled to days", async function () {
      const file = sharedDataFile(this, `binance-spot-1h/${asset}_1h.csv`);
      const series = await loadSeries(file, "1d");
      const r = runWalkForward(series, loadPolicy(path.join(policies, "default-1d.json")), { z2Simulations: 200, records: false });
      expect(r.horizon.steps).to.equal(2);
      expect(r.observations).to.be.greaterThan(2000);
      expect(r.trafficLight.overall).to.not.equal("red");
    });
  });
}
