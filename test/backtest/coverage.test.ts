// Coverage statistics against cases worked by hand (formulas and arithmetic written out below).
import { expect } from "chai";
import {
  acerbiSzekelyZ2, christoffersen, kupiecPof, trafficLight, trafficLightThresholds, transitionCounts,
} from "../../bot/backtest/coverage.ts";
import { binomialCdf, chiSquareSf, mulberry32 } from "../../bot/backtest/stats.ts";

describe("backtest/stats", () => {
  it("chi-square tail matches the textbook critical values", () => {
    // 3.841459 is the 95% point of chi2(1), 5.991465 of chi2(2); chi2(3) tail at 20 is 1.6974e-4.
    expect(chiSquareSf(3.84145882, 1)).to.be.closeTo(0.05, 1e-9);
    expect(chiSquareSf(5.991464547, 2)).to.be.closeTo(0.05, 1e-9);
    expect(chiSquareSf(20, 3)).to.be.closeTo(1.6974243555e-4, 1e-12);
  });
  it("binomial cdf for 250 draws at 1%", () => {
    // P(X <= 4) = sum_{k<=4} C(250,k) .01^k .99^(250-k) = 0.892188; P(X <= 5) = 0.958817
    expect(binomialCdf(4, 250, 0.01)).to.be.closeTo(0.8921876269, 1e-9);
    expect(binomialCdf(5, 250, 0.01)).to.be.closeTo(0.9588168159, 1e-9);
    expect(binomialCdf(9, 250, 0.01)).to.be.closeTo(0.9997498099, 1e-9);
  });
  it("seeded PRNG is reproducible", () => {
    const a = mulberry32(7), b = mulberry32(7);
    for (let i = 0; i < 5; i++) expect(a()).to.equal(b());
  });
});

describe("backtest/coverage", () => {
  it("Kupiec POF: 5 breaches in 250 at 99%", () => {
    // lnL0 = 245 ln(0.99) + 5 ln(0.01) = 245(-0.0100503) + 5(-4.6051702) = -25.488183
    // lnL1 = 245 ln(0.98) + 5 ln(0.02) = 245(-0.0202027) + 5(-3.9120230) = -24.509778
    // LR = -2(lnL0 - lnL1) = 1.956810; p = P(chi2(1) > 1.956810) = 0.161855
    const k = kupiecPof(250, 5, 0.01);
    expect(k.lr).to.be.closeTo(1.956809788, 1e-8);
    expect(k.pValueChiSquare).to.be.closeTo(0.1618549172, 1e-8);
    // n a = 2.5 < 5: the chi-square approximation is poor, so the reported p-value is the exact
    // two-sided binomial one (R binom.test(5, 250, 0.01) = 0.107812)
    expect(k.method).to.equal("exact-binomial");
    expect(k.pValue).to.be.closeTo(0.1078123731, 1e-8);
    // with 1000 obs (n a = 10) the chi-square p-value is reported
    expect(kupiecPof(1000, 10, 0.01).method).to.equal("chi-square");
  });
  it("Kupiec switches to the exact binomial p-value when n*a < 5", () => {
    // n = 100, x = 3, a = 0.01: n a = 1 < 5. Exact two-sided p = sum of P(X=i) over i with
    // P(X=i) <= P(X=3) = 0.079373 (R binom.test). LR = 2.632353 would give p = 0.1047.
    const k = kupiecPof(100, 3, 0.01);
    expect(k.method).to.equal("exact-binomial");
    expect(k.pValue).to.be.closeTo(0.0793732022, 1e-8);
    expect(k.lr).to.be.closeTo(2.6323526356, 1e-8);
  });
  it("Kupiec with no breach and with all breaches stays finite (0 ln 0 = 0)", () => {
    // x = 0: LR = -2 n ln(1-a) = -2 * 1000 * ln(0.99) = 20.100672
    expect(kupiecPof(1000, 0, 0.01).lr).to.be.closeTo(20.10067171, 1e-6);
    expect(Number.isFinite(kupiecPof(10, 10, 0.01).lr)).to.equal(true);
  });
  it("Christoffersen independence and conditional coverage on a clustered sequence", () => {
    // s = 0 0 0 1 1 1 0 0 0 0: n00 = 5, n01 = 1, n10 = 1, n11 = 2
    // p01 = 1/6, p11 = 2/3, p = 3/9 = 1/3
    // lnL0 = 6 ln(2/3) + 3 ln(1/3) = -5.728628
    // lnL1 = 5 ln(5/6) + ln(1/6) + ln(1/3) + 2 ln(2/3) = -4.612910
    // LR_ind = 2.231436, p = 0.135228
    // Kupiec on 10 obs, 3 breaches, a = 0.1: LR_pof = 3.073272; LR_cc = 5.304707, p = P(chi2(2) > 5.304707) = 0.070485
    const seq = [0, 0, 0, 1, 1, 1, 0, 0, 0, 0];
    const counts = transitionCounts([seq]);
    expect(counts).to.deep.equal({ n00: 5, n01: 1, n10: 1, n11: 2 });
    const k = kupiecPof(10, 3, 0.1);
    expect(k.lr).to.be.closeTo(3.07327173608, 1e-9);
    const c = christoffersen(counts, k.lr);
    expect(c.lrInd).to.be.closeTo(2.231435513, 1e-8);
    expect(c.pValueInd).to.be.closeTo(0.1352281577, 1e-8);
    expect(c.lrCc).to.be.closeTo(5.304707249, 1e-8);
    expect(c.pValue).to.be.closeTo(0.0704851222, 1e-8);
  });
  it("transition counts add over several sequences without a transition across them", () => {
    expect(transitionCounts([[1, 0], [1, 1]])).to.deep.equal({ n00: 0, n01: 0, n10: 1, n11: 1 });
  });
  it("Basel traffic light: 250 at 99% is green 0-4, yellow 5-9, red 10+", () => {
    // P(X<=4) = 0.8922 < 95% (green); P(X<=5) = 0.9588 >= 95%; P(X<=9) = 0.99975 < 99.99%; P(X<=10) = 0.99995
    expect(trafficLightThresholds(250, 0.01)).to.deep.equal({ greenMax: 4, yellowMax: 9 });
    // 97.5% over 500 obs: P(X<=17) = 0.9185 < 95%, P(X<=18) = 0.9504 -> green up to 17
    expect(trafficLightThresholds(500, 0.025).greenMax).to.equal(17);
  });
  it("traffic light counts rolling windows and reports the worst and last zone", () => {
    const seq = new Array<number>(300).fill(0);
    for (const i of [10, 20, 30, 40, 50]) seq[i] = 1; // 5 breaches within the first windows -> yellow
    const tl = trafficLight([seq], 0.01, 250);
    // windows end at 249..299 (51 windows); a window [s, s+249] holds all 5 breaches while s <= 10
    expect(tl.windows).to.deep.equal({ green: 40, yellow: 11, red: 0 });
    expect(tl.worst).to.equal("yellow");
    expect(tl.last).to.equal("green");
    expect(tl.maxBreaches).to.equal(5);
  });
  it("Acerbi-Szekely Z2 by hand, and its simulated p-value is seeded", () => {
    // L = [5,1,3,0], VaR = 2, ES = 4, a = 0.25, T = 4: breaches at t=0 and t=2
    // Z2 = 1 - (5/4 + 3/4) / (4 * 0.25) = 1 - 2 = -1
    const input = { loss: [5, 1, 3, 0], var: [2, 2, 2, 2], es: [4, 4, 4, 4] };
    expect(acerbiSzekelyZ2(input, 0.25).z2).to.be.closeTo(-1, 1e-12);
    // Under H0 (losses drawn from the predictive tail) Z2 centres on 0: a tail of ratios mean 1.
    const T = 5000;
    const rand = mulberry32(3);
    const loss = new Float64Array(T), v = new Float64Array(T).fill(1), es = new Float64Array(T).fill(1.5);
    for (let t = 0; t < T; t++) loss[t] = rand() < 0.01 ? 1 + rand() : 0; // tail U(1,2): mean 1.5 = ES
    const tails = [[1 / 1.5, 1.25 / 1.5, 1.5 / 1.5, 1.75 / 1.5, 2 / 1.5]];
    const r1 = acerbiSzekelyZ2({ loss, var: v, es, tails, tailIndex: new Uint8Array(T) }, 0.01, { seed: 1, simulations: 500 });
    const r2 = acerbiSzekelyZ2({ loss, var: v, es, tails, tailIndex: new Uint8Array(T) }, 0.01, { seed: 1, simulations: 500 });
    expect(r1.pValue).to.equal(r2.pValue);
    expect(r1.pValue!).to.be.greaterThan(0.05);
    // Losses twice the forecast: Z2 well below 0, p-value small.
    const heavy = Float64Array.from(loss, (x) => x * 2);
    const r3 = acerbiSzekelyZ2({ loss: heavy, var: v, es, tails, tailIndex: new Uint8Array(T) }, 0.01, { seed: 1, simulations: 500 });
    expect(r3.z2).to.be.lessThan(-0.5);
    expect(r3.pValue!).to.be.lessThan(0.01);
  });
});
