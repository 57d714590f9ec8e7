// Signal kernels: table-driven against hand-computed values and slow reference loops.
import { expect } from "chai";
import { expectNear } from "../data/near.ts";
import {
  closeToCloseVol, detectJumps, drawdownOver, ewmaVol, garmanKlassVol, gasCongestion, oracleDeviation, oracleStaleness,
  parkinsonVol, periodsPerYear, quantile, sequencerStatus, levelOf,
} from "../../bot/signals/index.ts";

const f64 = (xs: number[]): Float64Array => Float64Array.from(xs);

describe("signals: kernels", () => {
  it("periods per year on a 365-day year", () => {
    expect(periodsPerYear(3600)).to.equal(8760);
    expect(periodsPerYear(86400)).to.equal(365);
  });

  it("close-to-close vol is the annualised sample sd of log returns", () => {
    const close = f64([100, 102, 99, 101, 104, 103]);
    const r = [];
    for (let i = 1; i < close.length; i++) r.push(Math.log(close[i] / close[i - 1]));
    const mean = r.reduce((a, b) => a + b) / r.length;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
    expectNear(closeToCloseVol(close, 0, 5, 365), sd * Math.sqrt(365), 1e-12);
    // a sub-window: rows 2..5 use the returns into rows 3..5
    const r2 = r.slice(2);
    const m2 = r2.reduce((a, b) => a + b) / 3;
    expectNear(closeToCloseVol(close, 2, 5, 1), Math.sqrt(r2.reduce((a, b) => a + (b - m2) ** 2, 0) / 2), 1e-12);
    expect(() => closeToCloseVol(close, 4, 5, 1)).to.throw(/at least 3 rows/);
  });

  it("Parkinson and Garman-Klass on bars with known ranges", () => {
    const L = f64([100, 100]);
    const H = f64([100 * Math.exp(0.1), 100 * Math.exp(0.1)]);
    // Parkinson: sqrt(0.1^2 / (4 ln 2))
    expectNear(parkinsonVol(H, L, 0, 1, 1), 0.1 / Math.sqrt(4 * Math.LN2), 1e-12);
    // GK with open = close: sqrt(0.5 * 0.1^2)
    const O = f64([101, 101]);
    expectNear(garmanKlassVol(O, H, L, O, 0, 1, 1), Math.sqrt(0.005), 1e-12);
    // GK with ln(C/O) = 0.05: 0.5*0.01 - (2ln2-1)*0.0025
    const C = f64([101 * Math.exp(0.05), 101 * Math.exp(0.05)]);
    expectNear(garmanKlassVol(O, H, L, C, 0, 1, 4), Math.sqrt(4 * (0.005 - (2 * Math.LN2 - 1) * 0.0025)), 1e-12);
  });

  it("EWMA follows the RiskMetrics recursion from the seeded variance", () => {
    const close = f64([100, 101, 99, 100, 103, 102, 104]);
    const r = [];
    for (let i = 1; i < close.length; i++) r.push(Math.log(close[i] / close[i - 1]));
    const lambda = 0.94;
    let v = (r[0] ** 2 + r[1] ** 2) / 2; // seedSteps = 2
    for (let i = 2; i < r.length; i++) v = lambda * v + (1 - lambda) * r[i] ** 2;
    expectNear(ewmaVol(close, 0, 6, 1, lambda, 2), Math.sqrt(v), 1e-12);
    expect(() => ewmaVol(close, 0, 6, 1, 1)).to.throw(/lambda/);
  });

  it("drawdown: deepest peak-to-trough and current fall over the horizon", () => {
    const t = f64([0, 1, 2, 3, 4, 5]);
    const close = f64([100, 120, 90, 110, 80, 100]);
    expect(drawdownOver(t, close, 5, 10)).to.deep.equal({ horizonSeconds: 10, max: 1 - 80 / 120, current: 1 - 100 / 120, peakAt: 1, troughAt: 4 });
    // horizon 1: the close one step back starts the window
    expect(drawdownOver(t, close, 4, 1)).to.deep.include({ max: 1 - 80 / 110, current: 1 - 80 / 110 });
    expect(drawdownOver(t, f64([1, 2, 3, 4, 5, 6]), 5, 10)).to.deep.include({ max: 0, current: 0 });
  });

  it("jumps: a return beyond k local (bipower) sd, not the quiet ones", () => {
    const n = 80;
    const close = new Float64Array(n);
    close[0] = 100;
    for (let i = 1; i < n; i++) close[i] = close[i - 1] * Math.exp(i % 2 ? 0.01 : -0.008);
    close[70] = close[69] * Math.exp(-0.08);
    for (let i = 71; i < n; i++) close[i] = close[i - 1] * Math.exp(i % 2 ? 0.01 : -0.008);
    const t = Float64Array.from({ length: n }, (_, i) => i * 3600);
    const jumps = detectJumps(t, close, 50, n - 1, 48, 4);
    expect(jumps.map((j) => j.index)).to.deep.equal([70]);
    expectNear(jumps[0].logReturn, -0.08, 1e-12);
    // bipower sd of alternating 1% / 0.8% moves: sqrt(pi/2 * 0.01 * 0.008)
    expectNear(jumps[0].z, 0.08 / Math.sqrt((Math.PI / 2) * 0.01 * 0.008), 1e-9);
  });

  it("oracle staleness, deviation and the L2 sequencer feed", () => {
    const cases = [
      { name: "fresh", updatedAt: 1000, now: 1300, stale: false },
      { name: "just inside grace", updatedAt: 1000, now: 1000 + 3600 + 120, stale: false },
      { name: "past heartbeat + grace", updatedAt: 1000, now: 1000 + 3600 + 121, stale: true },
    ];
    for (const c of cases) {
      const s = oracleStaleness(c.updatedAt, c.now, 3600, 120);
      expect(s.stale, c.name).to.equal(c.stale);
      expect(s.ageSeconds).to.equal(c.now - c.updatedAt);
      expect(s.heartbeats).to.equal((c.now - c.updatedAt) / 3600);
    }
    expectNear(oracleDeviation(101, 100), 0.01, 1e-12);
    expect(sequencerStatus(0n, 1000, 1000 + 3601, 3600)).to.deep.equal({ up: true, sinceSeconds: 3601, usable: true });
    expect(sequencerStatus(0n, 1000, 1000 + 60, 3600)).to.deep.equal({ up: true, sinceSeconds: 60, usable: false });
    expect(sequencerStatus(1, 1000, 9000, 3600)).to.deep.equal({ up: false, sinceSeconds: 8000, usable: false });
  });

  it("gas: type-7 quantile, percentile rank and ratio to p90", () => {
    expectNear(quantile([1, 2, 3, 4], 0.9), 3.7, 1e-12);
    expect(quantile([5], 0.9)).to.equal(5);
    const g = gasCongestion([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200], 0, 10, 0.9);
    expect(g).to.deep.equal({ current: 200, samples: 11, percentileRank: 1, quantile: 100, quantileLevel: 0.9, ratio: 2 });
  });

  it("levels from bands", () => {
    const b = { elevated: 1, stressed: 2, critical: 3 };
    expect([0.5, 1, 1.9, 2, 3, 10, NaN].map((x) => levelOf(x, b))).to.deep.equal(["calm", "elevated", "elevated", "stressed", "critical", "critical", "calm"]);
  });
});
