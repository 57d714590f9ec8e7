import { expect } from "chai";
import { isRiskkeeperError } from "../../bot/errors.ts";
import { simulateHedgeLatency } from "../../bot/models/index.ts";

const base = {
  optionType: "call" as const, strike: 1, maturitySeconds: 2 * 86400, volAnnual: 0.8, stepSeconds: 300,
  oracleHeartbeatSeconds: 3600, oracleDeviationThresholdBps: 50, executionDelaySeconds: 600, seed: 7, paths: 400,
};

describe("models/hedging: delta hedge behind an oracle", () => {
  it("a perfect oracle with no delay reproduces the ideal hedge exactly (add-on 0)", () => {
    const r = simulateHedgeLatency({ ...base, oracleHeartbeatSeconds: 300, oracleDeviationThresholdBps: 0, executionDelaySeconds: 0 });
    expect(r.withLatency.sd).to.equal(r.ideal.sd);
    expect(r.addOnBps).to.equal(0);
    // Discrete hedging error of the ideal hedger is small next to the premium (~3.9% here).
    expect(r.ideal.sd).to.be.lessThan(0.005);
  });

  it("coarser oracles and longer delays widen the hedge error and raise the add-on", () => {
    const fine = simulateHedgeLatency(base);
    const coarse = simulateHedgeLatency({ ...base, oracleDeviationThresholdBps: 200 });
    const slow = simulateHedgeLatency({ ...base, executionDelaySeconds: 3600 });
    expect(fine.addOnBps).to.be.greaterThan(0);
    expect(Number.isInteger(fine.addOnBps)).to.equal(true);
    expect(coarse.withLatency.sd).to.be.greaterThan(fine.withLatency.sd);
    expect(coarse.addOnBps).to.be.greaterThan(fine.addOnBps);
    expect(slow.addOnBps).to.be.greaterThan(fine.addOnBps);
    expect(coarse.meanOracleUpdates).to.be.lessThan(fine.meanOracleUpdates);
  });

  it("is deterministic per seed, and puts work too", () => {
    const a = simulateHedgeLatency({ ...base, optionType: "put", strike: 0.9, nu: 4 });
    const b = simulateHedgeLatency({ ...base, optionType: "put", strike: 0.9, nu: 4 });
    expect(a).to.deep.equal(b);
    expect(a.withLatency.loss.es).to.be.at.least(a.withLatency.loss.var);
  });

  it("rejects bad input naming the field", () => {
    for (const [patch, name] of [[{ volAnnual: NaN }, "volAnnual"], [{ stepSeconds: 0 }, "stepSeconds"], [{ nu: 2 }, "nu"], [{ seed: 1.5 }, "seed"]] as const) {
      try {
        simulateHedgeLatency({ ...base, ...patch });
        expect.fail("expected an error");
      } catch (error) {
        expect(isRiskkeeperError(error, "MODEL_INPUT"), String(error)).to.equal(true);
        expect((error as Error).message).to.contain(name);
      }
    }
  });
});
