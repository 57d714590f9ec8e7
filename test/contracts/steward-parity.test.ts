import { expect } from "chai";
import { PARAM_COUNT } from "../../deploy/market-config.ts";
import { checkStewardUpdate, type StewardBounds, type StewardMarketState } from "../../bot/rules/bounds.ts";
import { deployFixture, type Fixture } from "../support/deployment.ts";
import { createRng } from "../support/prng.ts";

// The keeper's off-chain bound arithmetic (bot/rules/bounds.ts) must agree with the steward on
// every update: same accept/reject, same error. Random updates are sent as real transactions at
// a chosen block timestamp and both verdicts compared.
const SAMPLES = Number(process.env.PARITY_SAMPLES ?? 400);
const SEED = 424_242;
const ERROR_NAMES: Record<string, string> = {
  StewardUnknownParam: "UnknownParameter",
  StewardDuplicateParam: "DuplicateParameter",
  StewardMarketIsFrozen: "MarketFrozen",
  StewardParamNotConfigured: "ParamNotConfigured",
  StewardNoChange: "NoChange",
  StewardValueOutOfRange: "ValueOutOfRange",
  StewardRelativeStepFromZero: "RelativeStepFromZero",
  StewardStepTooLarge: "StepTooLarge",
  StewardUpdateTooSoon: "UpdateTooSoon",
  StewardMarginOrder: "MarginOrder",
};

describe(`Keeper bound arithmetic agrees with the steward (${SAMPLES} random updates, seed ${SEED})`, () => {
  let f: Fixture;
  after(async () => {
    await f?.connection.close();
  });

  it("accepts exactly what the contract accepts and names the same broken bound", async function () {
    this.timeout(SAMPLES * 300 + 60_000);
    f = await deployFixture();
    const { steward, helpers } = f;
    const id = f.marketId;
    const keeper = steward.connect(f.signers.keeper);
    const rng = createRng(SEED);
    const bounds = new Map<number, StewardBounds>();
    for (let p = 0; p < PARAM_COUNT; p++) {
      const b = await steward.getBounds(id, p);
      bounds.set(p, { min: b.min, max: b.max, maxStep: b.maxStep, minDelaySeconds: b.minDelaySeconds, stepKind: b.stepKind === 0n ? "absolute" : "relative" });
    }
    let now = BigInt((await f.ethers.provider.getBlock("latest"))!.timestamp);
    let accepted = 0;
    const rejectedBy = new Map<string, number>();

    for (let i = 0; i < SAMPLES; i++) {
      const [values, updatedAts] = await steward.getAllParams(id);
      const market: StewardMarketState = {
        frozen: await steward.isFrozen(id),
        bounds,
        params: new Map(values.map((v: bigint, p: number) => [p, { value: v, lastUpdatedAt: updatedAts[p] }])),
      };
      const n = rng.chance(0.75) ? 1 : rng.int(2, 3);
      const updates = Array.from({ length: n }, () => {
        const p = rng.chance(0.03) ? 12 : rng.int(0, PARAM_COUNT - 1);
        const b = bounds.get(p);
        const current = p < PARAM_COUNT ? (values[p] as bigint) : 0n;
        if (!b) return { parameter: p, value: 1n };
        const step = b.stepKind === "absolute" ? b.maxStep : (current < 0n ? -current : current) * b.maxStep / 10_000n;
        const offsets = [0n, step, -step, step + 1n, -step - 1n, step / 2n, -(step / 2n), b.max + 1n - current, b.min - current, b.max - current];
        return { parameter: p, value: current + rng.pick(offsets) };
      });
      now += BigInt(rng.pick([1, 60, 1_799, 3_599, 3_600, 3_601, 7_200]));
      if (rng.chance(market.frozen ? 0.5 : 0.02)) await steward.connect(f.signers.guardian).setMarketFrozen(id, !market.frozen);
      const frozenNow = await steward.isFrozen(id);
      const latest = BigInt((await f.ethers.provider.getBlock("latest"))!.timestamp);
      if (now <= latest) now = latest + 1n;
      const expected = checkStewardUpdate({ ...market, frozen: frozenNow }, updates, now);
      await helpers.time.setNextBlockTimestamp(now);
      let actual: string | undefined;
      try {
        await keeper.updateParams(id, updates.map((u) => [u.parameter, u.value]), "0x" + "77".repeat(32));
      } catch (error) {
        const data = (error as { data?: string }).data;
        const parsed = data ? steward.interface.parseError(data) : null;
        actual = parsed ? ERROR_NAMES[parsed.name] ?? parsed.name : `unparsed: ${(error as Error).message}`;
      }
      const context = `sample ${i}: ${JSON.stringify(updates, (_, v) => (typeof v === "bigint" ? v.toString() : v))} at ${now}`;
      expect(actual, context).to.equal(expected?.error);
      if (actual === undefined) accepted++;
      else rejectedBy.set(actual, (rejectedBy.get(actual) ?? 0) + 1);
    }
    console.log(`      parity: ${accepted} accepted, rejected by ${JSON.stringify(Object.fromEntries(rejectedBy))}`);
    expect(accepted).to.be.greaterThan(10);
    expect(rejectedBy.size).to.be.greaterThanOrEqual(5);
  });
});
