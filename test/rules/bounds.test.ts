// The steward's bound arithmetic (bigint), one case per on-chain error, in the contract's order.
import { expect } from "chai";
import { checkStewardUpdate, maxStepFrom, PARAMETER_IDS, type StewardBounds, type StewardMarketState } from "../../bot/rules/bounds.ts";

const IM = PARAMETER_IDS.initialMarginBps;
const MM = PARAMETER_IDS.maintenanceMarginBps;
const VOL = PARAMETER_IDS.volAnnualPpm;
const T0 = 1_700_000_000n;

function market(overrides: Partial<StewardMarketState> = {}): StewardMarketState {
  const abs: StewardBounds = { min: 100n, max: 5000n, maxStep: 200n, stepKind: "absolute", minDelaySeconds: 86400n };
  const rel: StewardBounds = { min: 50_000n, max: 3_000_000n, maxStep: 2500n, stepKind: "relative", minDelaySeconds: 3600n };
  return {
    frozen: false,
    bounds: new Map([[IM, abs], [MM, abs], [VOL, rel]]),
    params: new Map([
      [IM, { value: 1000n, lastUpdatedAt: T0 }],
      [MM, { value: 600n, lastUpdatedAt: T0 }],
      [VOL, { value: 800_000n, lastUpdatedAt: T0 }],
    ]),
    ...overrides,
  };
}
const later = T0 + 86400n;

describe("rules/bounds checkStewardUpdate", () => {
  const cases: { name: string; m?: Partial<StewardMarketState>; u: { parameter: number; value: bigint }[]; now?: bigint; expected: string | undefined }[] = [
    { name: "accepts a step of exactly maxStep after exactly minDelay", u: [{ parameter: MM, value: 800n }], expected: undefined },
    { name: "empty update", u: [], expected: "EmptyUpdate" },
    { name: "unknown parameter id before the freeze (shape check)", m: { frozen: true, stewardFrozen: true }, u: [{ parameter: 12, value: 1n }], expected: "UnknownParameter" },
    { name: "duplicate parameter", u: [{ parameter: MM, value: 700n }, { parameter: MM, value: 700n }], expected: "DuplicateParameter" },
    { name: "steward frozen before the market", m: { frozen: true, stewardFrozen: true }, u: [{ parameter: 5, value: 1n }], expected: "IsFrozen" },
    { name: "unknown market", m: { exists: false, frozen: true }, u: [{ parameter: MM, value: 700n }], expected: "UnknownMarket" },
    { name: "frozen market before the bounds", m: { frozen: true }, u: [{ parameter: 5, value: 1n }], expected: "MarketFrozen" },
    { name: "parameter without bounds in this market", u: [{ parameter: 5, value: 1n }], expected: "ParamNotConfigured" },
    { name: "range is inclusive at max", u: [{ parameter: IM, value: 1200n }], expected: undefined },
    { name: "above max", m: { params: new Map([[MM, { value: 4900n, lastUpdatedAt: T0 }], [IM, { value: 5000n, lastUpdatedAt: T0 }]]) }, u: [{ parameter: MM, value: 5001n }], expected: "ValueOutOfRange" },
    { name: "below min before step", u: [{ parameter: MM, value: 99n }], expected: "ValueOutOfRange" },
    { name: "range before step and delay", u: [{ parameter: MM, value: 9999n }], now: T0, expected: "ValueOutOfRange" },
    { name: "absolute step one too large", u: [{ parameter: MM, value: 801n }], expected: "StepTooLarge" },
    { name: "step before delay", u: [{ parameter: MM, value: 801n }], now: T0 + 1n, expected: "StepTooLarge" },
    { name: "delay one second short", u: [{ parameter: MM, value: 700n }], now: later - 1n, expected: "UpdateTooSoon" },
    { name: "no-op", u: [{ parameter: MM, value: 600n }], expected: "NoChange" },
    { name: "no-op before delay", u: [{ parameter: MM, value: 600n }], now: T0, expected: "NoChange" },
    { name: "no delay for a parameter never updated", m: { params: new Map([[IM, { value: 1000n, lastUpdatedAt: T0 }], [MM, { value: 600n, lastUpdatedAt: 0n }]]) }, u: [{ parameter: MM, value: 700n }], now: 1n, expected: undefined },
    // relative: |d| * 10000 <= 2500 * 800000 -> |d| <= 200000
    { name: "relative step at the limit", u: [{ parameter: VOL, value: 1_000_000n }], expected: undefined },
    { name: "relative step one over", u: [{ parameter: VOL, value: 1_000_001n }], expected: "StepTooLarge" },
    { name: "relative step from zero", m: { params: new Map([[VOL, { value: 0n, lastUpdatedAt: 0n }]]) }, u: [{ parameter: VOL, value: 60_000n }], expected: "RelativeStepFromZero" },
    { name: "initial below maintenance after a multi-parameter update", u: [{ parameter: IM, value: 800n }, { parameter: MM, value: 800n }], expected: undefined },
    { name: "margin order broken", u: [{ parameter: IM, value: 800n }, { parameter: MM, value: 801n }], expected: "StepTooLarge" },
    { name: "margin order broken inside bounds", u: [{ parameter: MM, value: 800n }, { parameter: IM, value: 780n }], m: { params: new Map([[IM, { value: 900n, lastUpdatedAt: T0 }], [MM, { value: 600n, lastUpdatedAt: T0 }]]) }, expected: "MarginOrder" },
    { name: "margin order broken by maintenance alone", m: { params: new Map([[IM, { value: 700n, lastUpdatedAt: T0 }], [MM, { value: 600n, lastUpdatedAt: T0 }]]) }, u: [{ parameter: MM, value: 750n }], expected: "MarginOrder" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = checkStewardUpdate(market(c.m), c.u, c.now ?? later);
      expect(v?.error).to.equal(c.expected, v?.message);
    });
  }
  it("a zero evidence hash is refused first; queueUpdate skips the delay", () => {
    expect(checkStewardUpdate(market({ frozen: true }), [{ parameter: MM, value: 700n }], later, { evidenceHash: "0x" + "0".repeat(64) })?.error).to.equal("MissingEvidence");
    expect(checkStewardUpdate(market(), [{ parameter: MM, value: 700n }], T0, { evidenceHash: "0x" + "ab".repeat(32) })?.error).to.equal("UpdateTooSoon");
    expect(checkStewardUpdate(market(), [{ parameter: MM, value: 700n }], T0, { checkDelay: false })).to.equal(undefined);
  });
  it("maxStepFrom mirrors both step kinds", () => {
    expect(maxStepFrom(600n, { maxStep: 200n, stepKind: "absolute" })).to.equal(200n);
    expect(maxStepFrom(-800_000n, { maxStep: 2500n, stepKind: "relative" })).to.equal(200_000n);
    expect(maxStepFrom(0n, { maxStep: 2500n, stepKind: "relative" })).to.equal(undefined);
  });
});
