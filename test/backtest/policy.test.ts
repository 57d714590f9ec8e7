// Policy validation: every bad input is refused before any work, with the key it is about.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { deriveHorizon, validatePolicy, validatePolicyForData } from "../../bot/backtest/policy.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "policies");
const base = (): any => JSON.parse(readFileSync(path.join(dir, "default-1h.json"), "utf8"));

function refused(raw: unknown, key: string): void {
  try {
    validatePolicy(raw, "p.json");
  } catch (e) {
    expect(isRiskkeeperError(e, "POLICY_INVALID"), String(e)).to.equal(true);
    expect((e as any).input).to.equal(`p.json#${key}`);
    return;
  }
  expect.fail(`accepted a policy with a bad ${key}`);
}

describe("backtest/policy", () => {
  it("the shipped default policies validate and derive their horizon", () => {
    const h = validatePolicy(base(), "default-1h.json");
    // 50 bps deviation threshold = price slack, no staleness time:
    // 120 latency + 14400 liquidation = 14520 s -> ceil(14520 / 3600) = 5 hours
    expect(h.horizonSeconds).to.equal(14520);
    expect(h.horizonSteps).to.equal(5);
    expect(h.oracleToleranceBps).to.equal(50);
    expect(h.lookbackSteps).to.equal(365 * 24);
    expect(h.cadenceSteps).to.equal(24);
    expect(h.alpha).to.be.closeTo(0.01, 1e-12);
    // RiskMetrics 0.94 per day is 0.94^(1/24) per hour
    expect(h.modelSpec.lambda).to.be.closeTo(Math.pow(0.94, 1 / 24), 1e-15);
    const d = validatePolicy(JSON.parse(readFileSync(path.join(dir, "default-1d.json"), "utf8")), "default-1d.json");
    // 120 + 86400 = 86520 s -> ceil(86520 / 86400) = 2 days
    expect(d.horizonSteps).to.equal(2);
  });
  it("deriveHorizon rounds up to whole data intervals", () => {
    // heartbeat-only oracle (no threshold): the heartbeat is staleness time
    expect(deriveHorizon({ oracleHeartbeatSeconds: 3600, oracleDeviationThresholdBps: 0, executionLatencySeconds: 0, liquidationSeconds: 3600 }, 3600)).to.deep.equal({ seconds: 7200, steps: 2, slackBps: 0 });
    // with a threshold: latency + liquidation only, 3601 s -> 2 hours
    expect(deriveHorizon({ oracleHeartbeatSeconds: 3600, oracleDeviationThresholdBps: 50, executionLatencySeconds: 1, liquidationSeconds: 3600 }, 3600)).to.deep.equal({ seconds: 3601, steps: 2, slackBps: 50 });
  });
  it("refuses inverted bounds", () => refused({ ...base(), rule: { ...base().rule, min: 900, max: 100 } }, "rule.min"));
  it("refuses a horizon shorter than the data interval", () => {
    refused({ ...base(), interval: "1d" }, "horizon");
    refused({ ...base(), horizon: { ...base().horizon, liquidationSeconds: 300 } }, "horizon");
  });
  it("refuses an unknown model", () => refused({ ...base(), model: { name: "garch-x" } }, "model.name"));
  it("refuses unknown keys (typos)", () => {
    refused({ ...base(), lookbakDays: 10 }, "lookbakDays");
    refused({ ...base(), rule: { ...base().rule, maxstep: 1 } }, "rule.maxstep");
  });
  it("refuses bad numbers with the key", () => {
    refused({ ...base(), confidence: 1.2 }, "confidence");
    refused({ ...base(), interval: "2h" }, "interval");
    refused({ ...base(), recalibrationSeconds: 5000 }, "recalibrationSeconds");
    refused({ ...base(), stress: { source: "vol-ratio", fastHalfLifeHours: 24, slowLookbackDays: 365, elevated: 1.5, stressed: 1.1, critical: 3 } }, "stress");
    refused({ ...base(), stress: { source: "vol-ratio" } }, "stress.fastHalfLifeHours");
    refused({ ...base(), stress: { source: "weather" } }, "stress.source");
    refused({ ...base(), rule: { ...base().rule, parameter: "volAnnualPpm" } }, "rule.parameter");
    refused({ ...base(), rule: { ...base().rule, floors: { ...base().rule.floors, stressBufferFraction: -1 } } }, "rule.floors.stressBufferFraction");
  });
  it("refuses a lookback longer than the data, and data of another interval", () => {
    const p = validatePolicy(base(), "p.json");
    expect(() => validatePolicyForData(p, { intervalSeconds: 3600, length: 365 * 24 })).to.throw(/lookback of 365 days/);
    expect(() => validatePolicyForData(p, { intervalSeconds: 86400, length: 1e6 })).to.throw(/is for 1h data/);
    expect(() => validatePolicyForData(p, { intervalSeconds: 3600, length: 365 * 24 + 7 })).to.not.throw();
  });
});
