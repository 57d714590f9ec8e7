// Load, short (issue 9): 50 markets on one keeper for 15 simulated minutes through the real
// runtime (store, lock, logger, health server, scheduler), pipeline, walk-forward gate, one steward
// and one transaction manager on the in-process chain; history at 60x, so 15 h of hourly bars with
// a crash in half the markets. No fork gate here (seconds per validation); the hour with the fork
// gate on one market in ten is `npm run bench:load`.
import os from "node:os";
import path from "node:path";
import { rmSync } from "node:fs";
import { expect } from "chai";
import { DEFAULT_LOAD, formatLoadReport, runLoad, type LoadReport } from "../../bench/load.ts";

describe("reliability/load: 50 markets on one keeper, 15 simulated minutes", function () {
  this.timeout(300_000);
  const dir = path.join(os.tmpdir(), `rk-load-${process.pid}`);
  let r: LoadReport;

  before(async () => {
    // Warm-up: the first calibration round (at 5 min) included. keep 1: the 15 minutes settle more
    // updates than there are markets, so compaction has work to do.
    r = await runLoad({ ...DEFAULT_LOAD, markets: 50, seconds: 15 * 60, warmupSeconds: 5 * 60, forkEvery: 0, keepTerminalPerMarket: 1, dir });
    console.log(formatLoadReport(r).replace(/^/gm, "      "));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("meets every market's schedule: each calibration on time or right after the run in progress, every watch made", () => {
    for (const m of r.perMarket) {
      expect(m.calibrationsExpected, m.market).to.equal(3);
      expect(m.calibrationsMissed, m.market).to.equal(0);
      expect(m.calibrationsOnTime + m.calibrationsLate, m.market).to.equal(m.calibrationsExpected);
      expect(m.watches + m.watchesSkipped, m.market).to.equal(m.watchesExpected);
      expect(m.failures + m.watchFailures, m.market).to.equal(0);
    }
    // A run lasts until its second confirmation block (the next 5 s watch tick, polled every 2 s);
    // a calibration is late only behind such a run.
    expect(r.maxRunSeconds).to.be.at.most(10);
    expect(r.maxLateSeconds).to.be.at.most(r.maxRunSeconds);
  });

  it("never runs one market twice at once", () => {
    expect(r.overlaps).to.equal(0);
  });

  it("does real work: stress rises in the crashing markets and updates are confirmed on chain", () => {
    expect(r.stressRuns).to.be.greaterThan(0);
    expect(r.outcomes.confirmed).to.be.greaterThan(r.markets / 2);
  });

  it("keeps the state file's records bounded: terminal records beyond the keep are compacted", () => {
    expect(r.state.compacted).to.be.greaterThan(0);
    // At most one record per market in flight beside the kept ones.
    expect(r.state.maxRecords).to.be.at.most(r.markets * (r.state.keepTerminalPerMarket + 1));
    expect(r.state.end.records).to.be.at.most(r.markets * r.state.keepTerminalPerMarket);
  });

  // The TxManager keys its journal by its own id ("direct:<market>:<hash>"), which the record's
  // confirmed stage keeps: compaction must drop that entry with the record.
  it("compacts the submission journal with its records", () => {
    expect(r.state.orphanJournal).to.equal(0);
    expect(r.state.end.journal).to.be.at.most(r.state.end.records);
  });

  it("keeps the heap flat: after GC, the end within 10% of the heap after warm-up", () => {
    expect(r.heap.ratio, JSON.stringify(r.heap)).to.be.at.most(1.1);
  });
});
