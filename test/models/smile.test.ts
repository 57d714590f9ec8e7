import { expect } from "chai";
import { readdirSync } from "node:fs";
import path from "node:path";
import { command as smileCommand, quotesFromTable } from "../../bot/commands/smile.ts";
import { readCsv } from "../../bot/commands/calibrate.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";
import {
  black76ImpliedVol, black76Price, calendarCheck, fitSmile, fitSviSlice, sviG, sviImpliedVol, type OptionQuote, type SviParams,
} from "../../bot/models/index.ts";
import { sharedDataFile } from "../support/shared-data.ts";

const strikesK = Array.from({ length: 25 }, (_, i) => -0.6 + 0.05 * i);

function quotesFrom(p: SviParams, T: number, expiry = "E1", forward = 100): OptionQuote[] {
  return strikesK.map((k) => ({ expiry, T, strike: forward * Math.exp(k), forward, type: k < 0 ? "put" : "call", iv: sviImpliedVol(p, T, k) }));
}

describe("models/smile: SVI", () => {
  it("Black-76 implied vol inverts the price (table)", () => {
    for (const [type, F, K, T, vol] of [["call", 100, 100, 0.5, 0.6], ["put", 100, 70, 0.1, 1.2], ["call", 3000, 4500, 1, 0.8], ["put", 50, 55, 0.01, 0.3]] as const) {
      const price = black76Price(type, F, K, T, vol);
      expect(black76ImpliedVol(type, price, F, K, T)).to.be.closeTo(vol, 1e-8);
    }
    expect(() => black76ImpliedVol("call", 0.0, 100, 150, 1)).to.throw(/outside/);
  });

  it("recovers a known smile from its own quotes", () => {
    const truth = { a: 0.04, b: 0.4, rho: -0.4, m: 0.05, sigma: 0.2 };
    const T = 0.5;
    const fit = fitSviSlice({ T, k: strikesK, iv: strikesK.map((k) => sviImpliedVol(truth, T, k)) });
    expect(fit.rmseVolPoints).to.be.lessThan(0.01);
    for (const key of ["a", "b", "rho", "m", "sigma"] as const) expect(fit.params[key], key).to.be.closeTo(truth[key], 5e-3);
    expect(fit.butterflyFree).to.equal(true);
    expect(fit.atmVol).to.be.closeTo(sviImpliedVol(truth, T, 0), 1e-4);
    expect(fit.skew).to.be.lessThan(0);
    // The derived skew matches a finite difference of the fitted smile.
    const h = 1e-5;
    expect(fit.skew).to.be.closeTo((sviImpliedVol(fit.params, T, h) - sviImpliedVol(fit.params, T, -h)) / (2 * h), 1e-6);
  });

  it("recovers a smile through price inversion in a chain, with vega and spread weights", () => {
    const truth = { a: 0.02, b: 0.15, rho: -0.3, m: 0.0, sigma: 0.15 };
    const T = 0.25;
    const quotes = quotesFrom(truth, T).map(({ iv, ...q }) => ({ ...q, price: black76Price(q.type, q.forward, q.strike, T, iv as number), spread: 0.01 }));
    for (const weighting of ["vega", "spread", "equal"] as const) {
      const smile = fitSmile(quotes, { weighting });
      expect(smile.slices).to.have.length(1);
      expect(smile.slices[0].rmseVolPoints, weighting).to.be.lessThan(0.05);
    }
  });

  it("flags a butterfly-arbitrageable slice (Axel Vogt's example)", () => {
    const vogt = { a: -0.0410, b: 0.1331, rho: 0.3060, m: 0.3586, sigma: 0.4153 };
    const T = 1;
    expect(sviG(vogt, 0.8)).to.be.lessThan(0);
    const fit = fitSviSlice({ T, k: strikesK.map((k) => k + 0.4), iv: strikesK.map((k) => sviImpliedVol(vogt, T, k + 0.4)) });
    expect(fit.rmseVolPoints).to.be.lessThan(0.05);
    expect(fit.butterflyFree).to.equal(false);
    expect(fit.minG).to.be.lessThan(0);
    // On request, the penalised refit removes the arbitrage at a small cost in fit error.
    const fixed = fitSviSlice({ T, k: strikesK.map((k) => k + 0.4), iv: strikesK.map((k) => sviImpliedVol(vogt, T, k + 0.4)), enforceButterfly: true });
    expect(fixed.butterflyFree).to.equal(true);
    expect(fixed.rmseVolPoints).to.be.lessThan(2);
  });

  it("flags a calendar violation (longer expiry with less total variance)", () => {
    const short = { a: 0.05, b: 0.2, rho: -0.3, m: 0, sigma: 0.2 };
    const long = { a: 0.03, b: 0.2, rho: -0.3, m: 0, sigma: 0.2 };
    const smile = fitSmile([...quotesFrom(short, 0.2, "S"), ...quotesFrom(long, 0.3, "L")]);
    expect(smile.calendarViolations).to.have.length(1);
    expect(smile.calendarViolations[0]).to.include({ shorterExpiry: "S", longerExpiry: "L" });
    expect(calendarCheck([{ params: short, T: 0.2 }, { params: { ...short, a: 0.06 }, T: 0.3 }])).to.have.length(0);
  });

  it("rejects unusable input with named errors", () => {
    try {
      fitSviSlice({ T: 0.1, k: [0, 0.1, 0.2], iv: [0.5, 0.5, 0.5] });
      expect.fail("expected an error");
    } catch (error) { expect(isRiskkeeperError(error, "MODEL_INPUT")).to.equal(true); expect(String(error)).to.match(/at least 5 quotes/); }
    expect(() => fitSviSlice({ T: 0.1, k: [0, 0.1, 0.2, 0.3, 0.4], iv: [0.5, NaN, 0.5, 0.5, 0.5] })).to.throw(/iv\[1\]/);
    expect(() => fitSviSlice({ T: 0, k: [0, 0.1, 0.2, 0.3, 0.4], iv: [0.5, 0.5, 0.5, 0.5, 0.5] })).to.throw(/T/);
  });

  it("fits every expiry of the Feb 2026 crash snapshots (Deribit), and the CLI prints the agreed JSON", async function () {
    const dir = path.dirname(sharedDataFile(this, "deribit-options-snapshots/_snapshot_index.csv"));
    const files = readdirSync(dir).filter((f) => /^deribit_options_snapshot_2026020[45]/.test(f));
    expect(files).to.have.length(2);
    for (const file of files) {
      const table = readCsv(path.join(dir, file));
      for (const [currency, quotes] of quotesFromTable(table)) {
        const smile = fitSmile(quotes);
        expect(smile.slices.length, `${file} ${currency}`).to.be.greaterThan(8);
        const rmse = smile.slices.map((s) => s.rmseVolPoints).sort((a, b) => a - b);
        expect(rmse[Math.floor(rmse.length / 2)], "median rmse").to.be.lessThan(2);
        for (const s of smile.slices) expect(s.params.b * (1 + Math.abs(s.params.rho))).to.be.at.most(2 + 1e-9);
      }
    }
    let out = "";
    const code = await smileCommand.run(["--input", path.join(dir, files[0]), "--currency", "ETH", "--json"], { stdout: (t) => { out += t; }, stderr: () => {} });
    expect(code).to.equal(0);
    const j = JSON.parse(out);
    expect(j).to.have.keys("slices", "skipped", "calendarViolations");
    expect(j.slices[0]).to.include.keys("expiry", "params", "rmseVolPoints", "butterflyFree", "n");
    expect(j.slices[0].params).to.have.keys("a", "b", "rho", "m", "sigma");
  });
});
