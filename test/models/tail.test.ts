import { expect } from "chai";
import { isRiskkeeperError } from "../../bot/errors.ts";
import {
  createRng, deriveHorizonSeconds, fhsVarEs, fitGarch, forecastVariance, historicalVarEs, marginBufferBps,
  simulateGarchSeries, stressTest, toBufferBps, varEs,
} from "../../bot/models/index.ts";
import { normInv } from "../../bot/models/common/special.ts";
import { overlappingSums } from "../../bot/models/tail/historical.ts";
import { sharedDataFile } from "../support/shared-data.ts";
import { logReturns, readBinanceCloses } from "./helpers.ts";

function expectModelError(fn: () => unknown, pattern: RegExp, code = "MODEL_INPUT"): void {
  try { fn(); } catch (error) {
    expect(isRiskkeeperError(error, code as "MODEL_INPUT"), String(error)).to.equal(true);
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail("expected an error");
}

const garchParams = { mu: 0, omega: 2e-6, alpha: 0.1, gamma: 0, beta: 0.85, nu: 5 };
const series = simulateGarchSeries({ params: garchParams, dist: "t", n: 3000, seed: 21 });

describe("models/tail: VaR, ES and margin buffers", () => {
  describe("varEs", () => {
    const table = [
      { name: "1..100 at 95%", losses: Array.from({ length: 100 }, (_, i) => i + 1), c: 0.95, v: 96, es: 98 },
      { name: "1..100 at 99%", losses: Array.from({ length: 100 }, (_, i) => i + 1), c: 0.99, v: 100, es: 100 },
      { name: "1..10 at 75% (partial last weight)", losses: Array.from({ length: 10 }, (_, i) => i + 1), c: 0.75, v: 8, es: (10 + 9 + 0.5 * 8) / 2.5 },
    ];
    for (const row of table) {
      it(row.name, () => {
        const r = varEs(Float64Array.from(row.losses), row.c);
        expect(r.var).to.equal(row.v);
        expect(r.es).to.be.closeTo(row.es, 1e-12);
      });
    }
    it("weights: all mass on the first half ignores the second", () => {
      const losses = Float64Array.from([1, 2, 3, 4, 100, 200]);
      const w = Float64Array.from([1, 1, 1, 1, 0, 0]);
      expect(varEs(losses, 0.75, w).var).to.equal(4);
    });
  });

  describe("historical simulation", () => {
    it("uses overlapping multi-period sums (no sqrt-of-time)", () => {
      expect(Array.from(overlappingSums(Float64Array.from([1, 2, 3, 4]), 2))).to.deep.equal([3, 5, 7]);
      const r = historicalVarEs({ returns: series, confidence: 0.99, horizonPeriods: 4 });
      expect(r.horizonSteps).to.equal(4);
      expect(r.scenarios).to.equal(series.length - 3);
      expect(r.long.es).to.be.greaterThan(r.long.var);
      // A fractional horizon rounds up to whole periods (in the protocol's favour).
      expect(historicalVarEs({ returns: series, confidence: 0.99, horizonPeriods: 3.2 }).long).to.deep.equal(r.long);
    });
    it("takes the horizon in seconds too", () => {
      const bySeconds = historicalVarEs({ returns: series, confidence: 0.99, horizonSeconds: 4 * 3600, periodSeconds: 3600 });
      expect(bySeconds).to.deep.equal(historicalVarEs({ returns: series, confidence: 0.99, horizonPeriods: 4 }));
      const fit = fitGarch(series, { model: "garch", dist: "t" });
      expect(fhsVarEs({ fit, confidence: 0.99, horizonSeconds: 1800, periodSeconds: 3600 }).long)
        .to.deep.equal(fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 0.5 }).long);
      expectModelError(() => historicalVarEs({ returns: series, confidence: 0.99, horizonSeconds: 60 }), /periodSeconds/);
      expectModelError(() => historicalVarEs({ returns: series, confidence: 0.99 }), /horizonSeconds/);
    });
    it("matches the normal quantile on a large i.i.d. normal sample", () => {
      const rng = createRng(99);
      const sigma = 0.01;
      const x = Float64Array.from({ length: 200_000 }, () => sigma * rng.normal());
      const r = historicalVarEs({ returns: x, confidence: 0.99, horizonPeriods: 1 });
      expect(r.long.var).to.be.closeTo(-Math.expm1(-sigma * normInv(0.99)), 5e-4);
      expect(r.short.var).to.be.closeTo(Math.expm1(sigma * normInv(0.99)), 5e-4);
    });
    it("pools stressed observations at their weight", () => {
      const calm = historicalVarEs({ returns: series, confidence: 0.99, horizonPeriods: 1 });
      const stressed = Array.from(series.slice(0, 500), (v) => 3 * v);
      const w = historicalVarEs({ returns: series, confidence: 0.99, horizonPeriods: 1, stressedReturns: stressed, stressedWeight: 0.25 });
      expect(w.long.es).to.be.greaterThan(calm.long.es);
    });
  });

  describe("filtered historical simulation", () => {
    const fit = fitGarch(series, { model: "garch", dist: "t" });
    it("one period: exact rescaling of the standardised residuals by the forecast", () => {
      const r = fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 1 });
      expect(r.method).to.equal("one-period-exact");
      const z = Array.from(fit.standardizedResiduals).map((v) => fit.params.mu + Math.sqrt(fit.nextVariance) * v);
      const byHand = varEs(Float64Array.from(z, (v) => -Math.expm1(v)), 0.99);
      expect(r.long.var).to.equal(byHand.var);
      expect(r.long.es).to.equal(byHand.es);
    });
    it("multi-period: bootstrap paths through the recursion, deterministic per seed", () => {
      const a = fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 24, seed: 5, paths: 20_000 });
      const b = fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 24, seed: 5, paths: 20_000 });
      const c = fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 24, seed: 6, paths: 20_000 });
      expect(a.method).to.equal("bootstrap-paths");
      expect(a.long).to.deep.equal(b.long);
      expect(c.long.es).to.not.equal(a.long.es);
      expect(c.long.es / a.long.es).to.be.closeTo(1, 0.08);
      // The simulated spread matches the analytic variance forecast.
      const sd = Math.sqrt(forecastVariance(fit, { steps: 24 }).totalVariance);
      const sim = stressTest({ fit, horizonPeriods: 24, seed: 5, paths: 20_000, innovations: "bootstrap" });
      const q99 = sim.horizonMove.find((q) => q.p === 0.99)?.value as number;
      expect(q99 / sd).to.be.within(1.8, 3.2);
    });
    it("rejects bad input with a named error", () => {
      expectModelError(() => fhsVarEs({ returns: [1, NaN, ...series], confidence: 0.99, horizonPeriods: 1 }), /returns\[1\]/);
      expectModelError(() => fhsVarEs({ fit, confidence: 1.5, horizonPeriods: 1 }), /confidence/);
      expectModelError(() => fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 0 }), /horizonPeriods/);
      expectModelError(() => historicalVarEs({ returns: series.slice(0, 20), confidence: 0.99, horizonPeriods: 1 }), /at least 50/);
    });
  });

  describe("flat series", () => {
    it("historical: a flat price gives a well-defined zero loss; FHS refuses with a clear error", () => {
      const flat = new Array(500).fill(0);
      const r = historicalVarEs({ returns: flat, confidence: 0.99, horizonPeriods: 3 });
      expect(r.long).to.deep.equal({ var: 0, es: 0 });
      expect(marginBufferBps({ returns: flat, periodSeconds: 3600, side: "short", method: "historical", horizon: { horizonSeconds: 7200 } }).bufferBps).to.equal(0);
      expectModelError(() => fhsVarEs({ returns: flat, confidence: 0.99, horizonPeriods: 1 }), /flat \(zero variance\)/);
    });
  });

  describe("horizon derivation", () => {
    const base = { oracleHeartbeatSeconds: 3600, oracleDeviationThresholdBps: 50, executionLatencySeconds: 24, liquidationSeconds: 300 };
    it("price-slack: the deviation threshold becomes slack, no staleness time", () => {
      const h = deriveHorizonSeconds(base);
      expect(h).to.include({ horizonSeconds: 324, slackBps: 50, oracleStalenessSeconds: 0, treatment: "price-slack" });
    });
    it("a heartbeat-only oracle is stale for the whole heartbeat", () => {
      expect(deriveHorizonSeconds({ ...base, oracleDeviationThresholdBps: 0 }).horizonSeconds).to.equal(3924);
    });
    it("time: threshold converted with (threshold/σ)², capped at the heartbeat", () => {
      const h = deriveHorizonSeconds({ ...base, deviationTreatment: "time", volAnnual: 0.8 });
      const sigma = 0.8 / Math.sqrt(365 * 86400);
      expect(h.oracleStalenessSeconds).to.be.closeTo((0.005 / sigma) ** 2, 1e-6);
      expect(h.slackBps).to.equal(0);
      expect(deriveHorizonSeconds({ ...base, deviationTreatment: "time", volAnnual: 0.01 }).oracleStalenessSeconds).to.equal(3600);
      expectModelError(() => deriveHorizonSeconds({ ...base, deviationTreatment: "time" }), /volAnnual/);
      expectModelError(() => deriveHorizonSeconds({ ...base, executionLatencySeconds: NaN }), /executionLatencySeconds/);
    });
  });

  describe("margin buffer", () => {
    it("rounds up to whole bps", () => {
      expect(toBufferBps(0.01234)).to.equal(124);
      expect(toBufferBps(0.0123, 50)).to.equal(173);
      expect(toBufferBps(0.01)).to.equal(100);
      expect(toBufferBps(0.0129)).to.equal(129); // 0.0129·1e4 = 129.00000000000003 in floating point
      expect(toBufferBps(0.01290001)).to.equal(130);
    });
    const common = { returns: series, periodSeconds: 3600, side: "long" as const, seed: 3, paths: 5000 };
    it("derives the horizon, applies the 25% buffer and floors, reports each step", () => {
      const horizon = { oracleHeartbeatSeconds: 3600, oracleDeviationThresholdBps: 50, executionLatencySeconds: 60, liquidationSeconds: 7200 };
      const plain = marginBufferBps({ ...common, horizon });
      expect(Number.isInteger(plain.bufferBps)).to.equal(true);
      expect(plain.bufferBps).to.equal(Math.ceil(plain.lossFraction * 1e4 + 50));
      const buffered = marginBufferBps({ ...common, horizon, apc: { buffer: 0.25 } });
      expect(buffered.lossFraction).to.be.closeTo(1.25 * plain.lossFraction, 1e-15);
      const stressed = Array.from(series.slice(0, 400), (v) => 4 * v);
      const floored = marginBufferBps({ ...common, horizon, apc: { stressedReturns: stressed, stressedFloor: true } });
      expect(floored.apcApplied).to.deep.equal(["stressedFloor"]);
      expect(floored.lossFraction).to.equal(floored.components.stressedFloor);
      const weighted = marginBufferBps({ ...common, horizon, apc: { stressedReturns: stressed, stressedWeight: 0.25 } });
      expect(weighted.lossFraction).to.be.greaterThan(plain.lossFraction);
      const longFloor = marginBufferBps({ ...common, horizon, apc: { longLookbackReturns: stressed } });
      expect(longFloor.lossFraction).to.be.at.least(plain.lossFraction);
      expectModelError(() => marginBufferBps({ ...common, horizon, apc: { stressedFloor: true } }), /stressedReturns/);
    });
  });

  describe("Monte Carlo stress", () => {
    const fit = fitGarch(series, { model: "garch", dist: "t" });
    it("parametric-t and bootstrap paths give ordered tails and drawdowns ≥ horizon loss", () => {
      for (const innovations of ["parametric", "bootstrap"] as const) {
        const s = stressTest({ fit, horizonPeriods: 12, seed: 8, paths: 5000, innovations });
        const q = (rows: readonly { p: number; value: number }[], p: number) => rows.find((r) => r.p === p)?.value as number;
        expect(q(s.horizonMove, 0.01)).to.be.lessThan(q(s.horizonMove, 0.5));
        expect(q(s.maxDrawdown, 0.99)).to.be.greaterThan(q(s.maxDrawdown, 0.5));
        // The max drawdown of a path is at least its loss at the horizon.
        expect(s.longDrawdown.es).to.be.at.least(s.long.es);
        expect(s.shortDrawdown.es).to.be.at.least(s.short.es);
      }
      const a = stressTest({ fit, horizonPeriods: 12, seed: 8, paths: 1000 });
      const b = stressTest({ fit, horizonPeriods: 12, seed: 8, paths: 1000 });
      expect(a).to.deep.equal(b);
    });
  });

  describe("real ETH hourly", () => {
    it("FHS 99% ES over 1 h and 24 h, both sides (values reported in docs)", function () {
      const candles = readBinanceCloses(sharedDataFile(this, "binance-spot-1h/ETHUSDT_1h.csv"));
      const r = logReturns(candles.slice(-5 * 8760).map((c) => c.close));
      const fit = fitGarch(r, { model: "garch", dist: "t" });
      const one = fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 1 });
      const day = fhsVarEs({ fit, confidence: 0.99, horizonPeriods: 24, seed: 1 });
      const hs = historicalVarEs({ returns: r, confidence: 0.99, horizonPeriods: 24 });
      expect(one.long.es).to.be.within(0.002, 0.1);
      expect(day.long.es).to.be.greaterThan(one.long.es);
      expect(hs.long.es).to.be.within(0.02, 0.5);
    });
  });
});
