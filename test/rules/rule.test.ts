// The bounded update rule: dead band, delay, asymmetry, floors, stress override, and a seeded
// property check that every proposal passes the steward's own bound check.
import { expect } from "chai";
import { checkStewardUpdate, PARAMETER_IDS } from "../../bot/rules/bounds.ts";
import { decideUpdate, effectiveTarget, toStewardBounds, validateRuleBounds, type RuleBounds, type StressLevel } from "../../bot/rules/rule.ts";
import { mulberry32 } from "../../bot/backtest/stats.ts";
import { isRiskkeeperError } from "../../bot/errors.ts";

const DAY = 86400;
const T0 = 1_700_000_000;
const bounds: RuleBounds = {
  min: 100, max: 3000, maxStep: 200, stepKind: "absolute", minDelaySeconds: DAY, deadBand: 20,
  calmBeforeLoosenSeconds: 7 * DAY, calmTightenStepFraction: 0.5, loosenStepFraction: 0.5,
  floors: { minValue: 0, stressedWeight: 0, stressBufferFraction: 0 },
};
const calm = (since = T0 - 30 * DAY) => ({ level: "calm" as const, since });
const at = (level: StressLevel, since = T0) => ({ level, since });

describe("rules/rule decideUpdate", () => {
  it("does nothing inside the dead band", () => {
    const d = decideUpdate({ current: 500, target: 519.2, bounds, lastUpdatedAt: T0 - DAY, now: T0, stress: calm() });
    expect(d.action).to.equal("none");
    expect(d.target).to.equal(520); // rounded up
    expect(d.limitedBy).to.equal("deadBand");
  });
  it("waits for the min delay", () => {
    const d = decideUpdate({ current: 500, target: 900, bounds, lastUpdatedAt: T0 - DAY + 1, now: T0, stress: calm() });
    expect(d).to.include({ action: "none", value: 500, limitedBy: "minDelaySeconds" });
  });
  it("tightens half a step when calm, a full step when stress is elevated or worse", () => {
    expect(decideUpdate({ current: 500, target: 900, bounds, lastUpdatedAt: 0, now: T0, stress: calm() }).value).to.equal(600);
    const e = decideUpdate({ current: 500, target: 900, bounds, lastUpdatedAt: 0, now: T0, stress: at("elevated") });
    expect(e).to.include({ action: "propose", value: 700, limitedBy: "maxStep" });
  });
  it("reaches a nearby target exactly", () => {
    const d = decideUpdate({ current: 500, target: 560.01, bounds, lastUpdatedAt: 0, now: T0, stress: at("elevated") });
    expect(d).to.include({ action: "propose", value: 561 });
  });
  it("loosens only after the calm period, one (fractional) step at a time", () => {
    const notYet = decideUpdate({ current: 900, target: 400, bounds, lastUpdatedAt: 0, now: T0, stress: calm(T0 - 7 * DAY + 1) });
    expect(notYet).to.include({ action: "none", limitedBy: "calmPeriod" });
    const stressed = decideUpdate({ current: 900, target: 400, bounds, lastUpdatedAt: 0, now: T0, stress: at("elevated", T0 - 90 * DAY) });
    expect(stressed.action).to.equal("none");
    const ok = decideUpdate({ current: 900, target: 400, bounds, lastUpdatedAt: 0, now: T0, stress: calm(T0 - 7 * DAY) });
    expect(ok).to.include({ action: "propose", value: 800 });
  });
  it("stress override: a step-limited tightening in stress says what governance would need", () => {
    const d = decideUpdate({ current: 500, target: 1234.5, bounds, lastUpdatedAt: 0, now: T0, stress: at("stressed") });
    expect(d.action).to.equal("governance");
    expect(d.value).to.equal(700); // the keeper still takes its full step
    expect(d.governance).to.deep.equal({ value: 1235, bound: "maxStep", required: 735 });
  });
  it("stress override: a target above max names the max bound", () => {
    const d = decideUpdate({ current: 2950, target: 4000, bounds, lastUpdatedAt: 0, now: T0, stress: at("critical") });
    expect(d).to.include({ action: "governance", value: 3000 });
    expect(d.governance).to.deep.equal({ value: 4000, bound: "max", required: 4000 });
    const atMax = decideUpdate({ current: 3000, target: 4000, bounds, lastUpdatedAt: 0, now: T0, stress: at("critical") });
    expect(atMax).to.include({ action: "governance", value: 3000 });
  });
  it("stress override: too soon in stress names the delay", () => {
    const d = decideUpdate({ current: 500, target: 900, bounds, lastUpdatedAt: T0 - 3600, now: T0, stress: at("stressed") });
    expect(d.action).to.equal("governance");
    expect(d.governance).to.deep.equal({ value: 900, bound: "minDelaySeconds", required: 3600 });
  });
  it("relative steps are taken in bps of the current value", () => {
    const rel: RuleBounds = { ...bounds, min: 50_000, max: 3_000_000, maxStep: 2500, stepKind: "relative", deadBand: 0 };
    expect(decideUpdate({ current: 800_000, target: 2_000_000, bounds: rel, lastUpdatedAt: 0, now: T0, stress: at("elevated") }).value).to.equal(1_000_000);
  });
  it("anti-procyclical floors: stressed weight, stress buffer released in stress, absolute floor", () => {
    const floors = { minValue: 150, stressedWeight: 0.25, stressBufferFraction: 0.25 };
    // calm: max(400, .25*2000 + .75*400 = 800) * 1.25 = 1000
    expect(effectiveTarget(400, floors, "calm", 2000)).to.equal(1000);
    // stressed: the 25% buffer is released -> 800
    expect(effectiveTarget(400, floors, "stressed", 2000)).to.equal(800);
    // absolute floor
    expect(effectiveTarget(50, floors, "critical")).to.equal(150);
  });
  it("every proposal passes the steward's check (seeded property test)", () => {
    const rand = mulberry32(42);
    const levels: StressLevel[] = ["calm", "elevated", "stressed", "critical"];
    for (let i = 0; i < 3000; i++) {
      const relative = rand() < 0.5;
      const b: RuleBounds = relative
        ? { ...bounds, min: 1000, max: 2_000_000, maxStep: 1 + Math.floor(rand() * 5000), stepKind: "relative", deadBand: Math.floor(rand() * 50) }
        : { ...bounds, maxStep: 1 + Math.floor(rand() * 400), deadBand: Math.floor(rand() * 50), calmTightenStepFraction: 0.1 + rand() * 0.9, loosenStepFraction: 0.1 + rand() * 0.9 };
      const current = b.min + Math.floor(rand() * (b.max - b.min));
      const target = rand() * b.max * 1.3;
      const last = T0 - Math.floor(rand() * 2 * DAY);
      const d = decideUpdate({ current, target, bounds: b, lastUpdatedAt: last, now: T0, stress: { level: levels[Math.floor(rand() * 4)], since: T0 - Math.floor(rand() * 14 * DAY) } });
      if (d.value === current) continue;
      const p = PARAMETER_IDS.volAnnualPpm;
      const v = checkStewardUpdate({
        frozen: false,
        bounds: new Map([[p, toStewardBounds(b)]]),
        params: new Map([[p, { value: BigInt(current), lastUpdatedAt: BigInt(last) }]]),
      }, [{ parameter: p, value: BigInt(d.value) }], BigInt(T0));
      expect(v, `${JSON.stringify({ current, target, b, d })}`).to.equal(undefined);
    }
  });
  it("validation names the broken key", () => {
    const bad = [
      [{ ...bounds, min: 500, max: 100 }, "rule.min"],
      [{ ...bounds, maxStep: 0 }, "rule.maxStep"],
      [{ ...bounds, stepKind: "relative", min: 0 }, "rule.min"],
      [{ ...bounds, loosenStepFraction: 0 }, "rule.loosenStepFraction"],
      [{ ...bounds, floors: { ...bounds.floors, stressedWeight: 2 } }, "rule.floors.stressedWeight"],
    ] as const;
    for (const [b, key] of bad) {
      try {
        validateRuleBounds(b as RuleBounds);
        expect.fail(`accepted ${key}`);
      } catch (e) {
        expect(isRiskkeeperError(e, "POLICY_INVALID") && e.input).to.equal(key);
      }
    }
  });
});
