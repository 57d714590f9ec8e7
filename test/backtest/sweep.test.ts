// Sweep: grid expansion, where each point breaks, ranking, and the worker-thread pool giving
// the same outcomes as one thread.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expandGrid, partitionPoints, rankOutcomes, runSweepPoints, type SweepOutcome } from "../../bot/backtest/sweep.ts";
import { runSweepParallel } from "../../bot/commands/sweep.ts";
import { syntheticSeries } from "./synthetic.ts";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "policies");
const base = () => {
  const p = JSON.parse(readFileSync(path.join(dir, "default-1h.json"), "utf8"));
  return { ...p, lookbackDays: 60 };
};

describe("backtest/sweep", () => {
  it("expands the cartesian product of dotted keys onto copies of the base", () => {
    const b = base();
    const pts = expandGrid(b, { grid: { "rule.maxStep": [100, 200], "model": [{ name: "hs" }, { name: "fhs-ewma" }, { name: "bad" }] } });
    expect(pts).to.have.length(6);
    expect(pts[1].params).to.deep.equal({ "rule.maxStep": 200, model: { name: "hs" } });
    expect((pts[1].policy as any).rule.maxStep).to.equal(200);
    expect((pts[1].policy as any).rule.deadBand).to.equal(b.rule.deadBand);
    expect(b.rule.maxStep).to.equal(150); // base untouched
    expect(() => expandGrid(b, { grid: { "rule.maxStep": [] } })).to.throw(/non-empty/);
  });
  it("reports where each point breaks, invalid policies included, and ranks coverage before cost", () => {
    const series = syntheticSeries(24 * 150, 21, { regimes: [[24 * 90, 24 * 100]] });
    const pts = expandGrid(base(), { grid: { "rule.maxStep": [60, 300], "rule.min": [100, 99999], "rule.floors.stressBufferFraction": [0, 0.5] } });
    const out = runSweepPoints(series, pts);
    expect(out).to.have.length(8);
    const invalid = out.filter((o) => o.params["rule.min"] === 99999);
    expect(invalid).to.have.length(4);
    for (const o of invalid) {
      expect(o.coverageFails).to.equal(99);
      expect(o.fails[0]).to.match(/^POLICY_INVALID/);
    }
    // a 50% stress buffer held in calm markets: fewer breaches, and it costs more than a static buffer
    const pick = (f: number) => out.find((o) => o.params["rule.floors.stressBufferFraction"] === f && o.params["rule.min"] === 100 && o.params["rule.maxStep"] === 60)!;
    const padded = pick(0.5);
    expect(padded.breaches!).to.be.lessThan(pick(0).breaches!);
    expect(padded.meanBufferBps!).to.be.greaterThan(pick(0).meanBufferBps!);
    expect(padded.fails.some((f) => /^mean .* >= static/.test(f))).to.equal(true);
    const ranked = rankOutcomes(out);
    for (let i = 1; i < ranked.length; i++) {
      const a = ranked[i - 1], b = ranked[i];
      expect(a.coverageFails <= b.coverageFails).to.equal(true);
      if (a.coverageFails === b.coverageFails) expect((a.meanBufferBps ?? Infinity) <= (b.meanBufferBps ?? Infinity)).to.equal(true);
    }
  });
  it("partitions keep calibration groups together and balance the load", () => {
    const pts = expandGrid(base(), { grid: { "rule.maxStep": [1, 2, 3, 4], "model.name": ["hs", "fhs-ewma"] } });
    const bins = partitionPoints(pts, 2, (p) => (p.policy as any).model.name);
    expect(bins).to.have.length(2);
    expect(bins.map((b) => b.length)).to.deep.equal([4, 4]);
    for (const b of bins) expect(new Set(b.map((p) => (p.policy as any).model.name)).size).to.equal(1);
  });
  it("two worker threads give the same outcomes as one thread", async () => {
    const series = syntheticSeries(24 * 150, 22, { regimes: [[24 * 90, 24 * 100]] });
    const pts = expandGrid(base(), { grid: { "rule.maxStep": [80, 160], "model.name": ["hs", "fhs-ewma"] } });
    const one = await runSweepParallel(series, pts, 1);
    const two = await runSweepParallel(series, pts, 2);
    const strip = (o: SweepOutcome[]) => o.map((x) => JSON.stringify(x));
    expect(strip(two)).to.deep.equal(strip(one));
  });
});
