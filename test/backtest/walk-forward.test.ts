// Walk-forward engine: no look-ahead (truncation leaves earlier outputs identical), breach and
// window arithmetic, the static benchmark, bounded updates the steward would accept, models.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { historicalSimulationModel, fhsEwmaModel, tailOf } from "../../bot/backtest/model.ts";
import { validatePolicy, type Policy } from "../../bot/backtest/policy.ts";
import { regularGrid, runWalkForward, type PriceSeries } from "../../bot/backtest/walk-forward.ts";
import { checkStewardUpdate, PARAMETER_IDS } from "../../bot/rules/bounds.ts";
import { syntheticSeries } from "./synthetic.ts";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "policies");

function smallPolicy(overrides: Record<string, unknown> = {}): Policy {
  const p = JSON.parse(readFileSync(path.join(dir, "default-1h.json"), "utf8"));
  return validatePolicy({ ...p, name: "test-1h", lookbackDays: 60, ...overrides }, "test");
}

function truncate(s: PriceSeries, n: number): PriceSeries {
  const r = s.raw!;
  const cut = (a: Float64Array) => a.slice(0, n);
  return {
    time: cut(s.time), close: cut(s.close), intervalSeconds: s.intervalSeconds,
    raw: { ...r, t: cut(r.t), open: cut(r.open), high: cut(r.high), low: cut(r.low), close: cut(r.close), volume: cut(r.volume), line: cut(r.line) },
  };
}

describe("backtest/walk-forward", () => {
  const series = syntheticSeries(24 * 300, 11, { regimes: [[24 * 120, 24 * 150], [24 * 220, 24 * 230]] });
  const policy = smallPolicy();
  const full = runWalkForward(series, policy, { z2Simulations: 200 });

  it("uses only data up to each step: a truncated run reproduces every earlier output", () => {
    const cut = 24 * 200 + 7;
    const part = runWalkForward(truncate(series, cut), policy, { z2Simulations: 200 });
    expect(part.refits.length).to.be.greaterThan(50);
    expect(part.refits).to.deep.equal(full.refits.slice(0, part.refits.length));
    expect(part.series).to.deep.equal(full.series.slice(0, part.series.length));
    // and a change to the future only (after the cut) leaves them identical too
    const future = series.close.map((c, i) => (i >= cut ? c * 1.5 : c));
    const changed = { ...series, close: future, raw: { ...series.raw!, close: future, open: future, high: future, low: future } };
    const other = runWalkForward(changed, policy, { z2Simulations: 200 });
    const lastBefore = part.refits.length - 1;
    expect(other.refits.slice(0, lastBefore)).to.deep.equal(full.refits.slice(0, lastBefore));
  });

  it("tests non-overlapping horizon windows, both directions, against the buffer in force", () => {
    const h = policy.horizonSteps;
    expect(full.windows.nonOverlapping).to.equal(true);
    expect(full.observations).to.equal(2 * full.windows.count);
    for (let k = 1; k < full.series.length; k++) expect(full.series[k].t - full.series[k - 1].t).to.equal(h * 3600);
    let breaches = 0;
    for (const w of full.series) {
      const i = (w.t - series.time[0]) / 3600;
      const g = series.close[i + h] / series.close[i];
      expect(w.lossLongBps).to.be.closeTo((1 - g) * 1e4, 1e-9);
      expect(w.lossShortBps).to.be.closeTo((g - 1) * 1e4, 1e-9);
      // buffer in force = the value set at the latest recalibration at or before t
      const inForce = full.refits.filter((r) => r.t <= w.t).at(-1)!;
      expect(w.bufferBps).to.equal(inForce.bufferBps);
      breaches += (w.lossLongBps > w.bufferBps ? 1 : 0) + (w.lossShortBps > w.bufferBps ? 1 : 0);
    }
    expect(full.breaches).to.equal(breaches);
    expect(full.sides.long.breaches + full.sides.short.breaches).to.equal(breaches);
  });

  it("static benchmark is the smallest constant buffer with at most the policy's breaches", () => {
    const losses = full.series.flatMap((w) => [w.lossLongBps, w.lossShortBps]);
    const count = (b: number) => losses.filter((l) => l > b).length;
    expect(count(full.static.bufferBps)).to.be.at.most(full.breaches);
    expect(count(full.static.bufferBps - 1)).to.be.greaterThan(full.breaches);
    expect(full.static.breaches).to.equal(count(full.static.bufferBps));
    expect(full.static.procyclicality.peakToTrough).to.equal(1);
  });

  it("every bounded update is one the steward accepts, and daily rises never exceed one step", () => {
    const p = PARAMETER_IDS.maintenanceMarginBps;
    const b = policy.rule;
    const im = PARAMETER_IDS.initialMarginBps;
    const bounds = new Map([[im, { min: 0n, max: 10000n, maxStep: 1n, stepKind: "absolute" as const, minDelaySeconds: 0n }], [p, { min: BigInt(b.min), max: BigInt(b.max), maxStep: BigInt(b.maxStep), stepKind: b.stepKind, minDelaySeconds: BigInt(b.minDelaySeconds) }]]);
    let state = { value: BigInt(full.refits[0].bufferBps), lastUpdatedAt: BigInt(full.refits[0].t) };
    let updates = 0;
    for (const r of full.refits.slice(1)) {
      if (BigInt(r.bufferBps) === state.value) continue;
      const v = checkStewardUpdate({ frozen: false, bounds, params: new Map([[p, state], [im, { value: 10000n, lastUpdatedAt: 1n }]]) }, [{ parameter: p, value: BigInt(r.bufferBps) }], BigInt(r.t));
      expect(v, v?.message).to.equal(undefined);
      state = { value: BigInt(r.bufferBps), lastUpdatedAt: BigInt(r.t) };
      updates++;
    }
    expect(updates).to.equal(full.updates);
    expect(full.procyclicality.largestIncreaseBps.d1).to.be.at.most(b.maxStep);
    expect(full.procyclicality.largestIncreaseBps.d5).to.be.at.most(5 * b.maxStep);
    expect(full.updates).to.be.lessThan(full.unbounded.updates);
  });

  it("a volatility jump beyond one step escalates to governance and says what it needs", () => {
    const crash = syntheticSeries(24 * 200, 13, { stressed: 0.05, regimes: [[24 * 100, 24 * 110]] });
    const r = runWalkForward(crash, policy, { z2Simulations: 0 });
    expect(r.governance.length).to.be.greaterThan(0);
    expect(r.governance.length).to.equal(r.governanceEscalations);
    for (const g of r.governance) {
      expect(["max", "min", "maxStep", "minDelaySeconds"]).to.include(g.bound);
      if (g.bound === "maxStep") expect(g.required).to.equal(g.value - g.currentBps).and.be.greaterThan(policy.rule.maxStep);
    }
  });

  it("an unbounded FHS is calibrated on a constant-volatility series (seeded)", () => {
    const calm = syntheticSeries(24 * 420, 5);
    const r = runWalkForward(calm, smallPolicy(), { z2Simulations: 200 });
    expect(r.unbounded.breachRate).to.be.within(0.004, 0.02);
    expect(r.unbounded.kupiec.pValue).to.be.greaterThan(0.01);
    expect(r.unbounded.trafficLight.overall).to.not.equal("red");
  });

  it("the result carries the keys the CLI promises", () => {
    for (const k of ["observations", "breaches", "breachRate", "kupiec", "christoffersen", "trafficLight", "z2", "meanBufferBps", "procyclicality", "updates", "series", "unbounded", "static"]) {
      expect(full).to.have.property(k);
    }
    expect(full.kupiec.pValue).to.be.a("number");
    expect(full.christoffersen.pValue).to.be.a("number");
    expect(full.series[0]).to.include.keys("t", "bufferBps", "breach");
  });

  it("the local vol-ratio stress source needs no loaded series; signals does", () => {
    const bare = { time: series.time, close: series.close, intervalSeconds: 3600 };
    const local = smallPolicy({ stress: { source: "vol-ratio", fastHalfLifeHours: 24, slowLookbackDays: 60, elevated: 1.5, stressed: 2, critical: 3 } });
    expect(runWalkForward(bare, local, { z2Simulations: 0 }).refits.some((r) => r.stress !== "calm")).to.equal(true);
    expect(() => runWalkForward(bare, policy)).to.throw(/bot\/signals/);
  });

  it("regularGrid forward-fills gaps and refuses bad rows", () => {
    const g = regularGrid([0, 3600, 4 * 3600], [10, 11, 12], 3600);
    expect(Array.from(g.close)).to.deep.equal([10, 11, 11, 11, 12]);
    expect(Array.from(g.time)).to.deep.equal([0, 3600, 7200, 10800, 14400]);
    expect(() => regularGrid([0, 3600], [10, -1], 3600)).to.throw(/positive/);
    expect(() => regularGrid([0, 1800], [10, 11], 3600)).to.throw(/grid/);
  });
});

describe("backtest/model", () => {
  it("tailOf: VaR is the (k+1)-th largest loss, ES the mean of the k+1 largest", () => {
    // 10 losses, alpha = 0.1: k = floor(0.1 * 10) = 1 -> VaR = 2nd largest = 8, ES = (8 + 9) / 2 = 8.5
    const t = tailOf(Float64Array.from([3, 9, 1, 8, 2, 7, 4, 6, 5, 0]), 0.1, (x) => x);
    expect(t.varBps).to.equal(8);
    expect(t.esBps).to.equal(8.5);
    expect(Array.from(t.tail)).to.deep.equal([8 / 8.5, 9 / 8.5]);
  });
  it("HS on 1-step returns: buffer = (1 - e^(-loss)) in bps of the order statistic", () => {
    // returns r = -0.01 * i for i = 0..9 in some order: losses 0..0.09; alpha 0.1 -> VaR loss 0.08
    const returns = Float64Array.from([0, -0.05, -0.09, -0.01, -0.03, -0.08, -0.02, -0.07, -0.04, -0.06]);
    const e = historicalSimulationModel().estimate({ returns, horizonSteps: 1, alpha: 0.1, lookback: 10, stepsPerYear: 8760 });
    expect(e.bufferBpsLong).to.be.closeTo((1 - Math.exp(-0.08)) * 1e4, 1e-9);
    expect(e.esBpsLong).to.be.closeTo(((1 - Math.exp(-0.08)) + (1 - Math.exp(-0.09))) / 2 * 1e4, 1e-9);
    // short side: the 2 largest gains are 0 and -0.01 -> VaR = e^(-0.01) - 1 (negative: no loss)
    expect(e.bufferBpsShort).to.be.closeTo(Math.expm1(-0.01) * 1e4, 1e-9);
  });
  it("FHS scales the standardised tail by today's EWMA volatility", () => {
    const s = syntheticSeries(3000, 3);
    const returns = new Float64Array(s.close.length - 1);
    for (let i = 1; i < s.close.length; i++) returns[i - 1] = Math.log(s.close[i] / s.close[i - 1]);
    const input = { returns, horizonSteps: 4, alpha: 0.01, lookback: 2000, stepsPerYear: 8760 };
    const e = fhsEwmaModel({ lambda: 0.99 }).estimate(input);
    // Gaussian steps with sigma 0.006: 4-step 99% loss ~ 2.33 * 0.006 * 2 = 2.8% -> ~275 bps
    expect(e.bufferBpsLong).to.be.within(220, 340);
    expect(e.volAnnual).to.be.within(0.006 * Math.sqrt(8760) * 0.8, 0.006 * Math.sqrt(8760) * 1.2);
    expect(e.esBpsLong).to.be.greaterThan(e.bufferBpsLong);
  });
});

describe("backtest/model fhs-garch (bot/models' FHS)", () => {
  it("refiltering a window with the fitted parameters reproduces fitGarch's residuals and next variance", async () => {
    const { fitGarch } = await import("../../bot/models/index.ts");
    const { refilterGarch } = await import("../../bot/backtest/model.ts");
    const s = syntheticSeries(2500, 8, { regimes: [[1200, 1500]] });
    const r = new Float64Array(s.close.length - 1);
    for (let i = 1; i < s.close.length; i++) r[i - 1] = Math.log(s.close[i] / s.close[i - 1]);
    const fit = fitGarch(r, { model: "garch", dist: "t" });
    const again = refilterGarch(fit, r);
    expect(again.nextVariance).to.be.closeTo(fit.nextVariance, fit.nextVariance * 1e-9);
    for (const i of [0, 1, 500, r.length - 1]) expect(again.standardizedResiduals[i]).to.be.closeTo(fit.standardizedResiduals[i], 1e-9);
  });
  it("runs behind the BufferModel interface, deterministic for a seed", async () => {
    const { fhsGarchModel } = await import("../../bot/backtest/model.ts");
    const s = syntheticSeries(3000, 4);
    const r = new Float64Array(s.close.length - 1);
    for (let i = 1; i < s.close.length; i++) r[i - 1] = Math.log(s.close[i] / s.close[i - 1]);
    const input = { returns: r, horizonSteps: 4, alpha: 0.01, lookback: 2000, stepsPerYear: 8760 };
    const a = fhsGarchModel({ refitEverySteps: 100, paths: 500 }).estimate(input);
    const b = fhsGarchModel({ refitEverySteps: 100, paths: 500 }).estimate(input);
    expect(a).to.deep.equal(b);
    expect(a.bufferBps).to.equal(Math.max(a.bufferBpsLong, a.bufferBpsShort));
    expect(a.bufferBps).to.be.within(200, 400); // sigma 0.006, 4 steps: ~2.33 * 1.2% ~ 280 bps
  });
});
