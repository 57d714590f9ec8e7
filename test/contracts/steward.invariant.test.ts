import { expect } from "chai";
import { AbiCoder } from "ethers";
import { PARAM_COUNT } from "../../deploy/market-config.ts";
import { deployFixture, type Fixture } from "../support/deployment.ts";
import { createRng } from "../support/prng.ts";

// Random sequences of keeper, guardian, outsider, upkeep and governance calls. After every call
// the invariants are checked against the chain's state:
//   - a parameter moved by anyone but governance is inside governance's [min, max] as they stood,
//     moved by at most maxStep (absolute or relative) and no sooner than minDelay after its last move;
//   - bounds change only in governance calls;
//   - initial margin never falls below maintenance margin.
// FUZZ_RUNS (default 1,000 in CI; `npm run fuzz` runs 10,000) and FUZZ_SEED replay a sequence.
const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_125);

interface BoundsView { min: bigint; max: bigint; maxStep: bigint; minDelaySeconds: bigint; stepKind: bigint }

describe(`RiskParameterSteward invariants (fuzz: ${RUNS} runs, seed ${SEED})`, () => {
  let f: Fixture;
  after(async () => {
    await f?.connection.close();
  });

  it("no sequence of calls moves a parameter outside bounds or faster than the min delay", async function () {
    this.timeout(RUNS * 200 + 60_000);
    f = await deployFixture();
    const { steward, upkeep, helpers, ethers } = f;
    const id = f.marketId;
    const rng = createRng(SEED);
    await helpers.impersonateAccount(f.deployment.contracts.timelock);
    await helpers.setBalance(f.deployment.contracts.timelock, 10n ** 21n);
    const governance = await ethers.getSigner(f.deployment.contracts.timelock);

    const readBounds = async (): Promise<BoundsView[]> =>
      Promise.all(Array.from({ length: PARAM_COUNT }, async (_, p) => {
        const b = await steward.getBounds(id, p);
        return { min: b.min, max: b.max, maxStep: b.maxStep, minDelaySeconds: b.minDelaySeconds, stepKind: b.stepKind };
      }));
    const readParams = async () => {
      const [values, updatedAts] = await steward.getAllParams(id);
      return { values: (values as bigint[]).map(BigInt), updatedAts: (updatedAts as bigint[]).map(BigInt) };
    };

    let bounds = await readBounds();
    let state = await readParams();
    const counts = { accepted: 0, rejected: 0, keeperMoves: 0, upkeepMoves: 0, governanceCalls: 0 };

    const randomValue = (p: number): bigint => {
      const b = bounds[p];
      const current = state.values[p];
      const span = b.stepKind === 0n ? b.maxStep : (current < 0n ? -current : current) * b.maxStep / 10_000n + 1n;
      const choice = rng.int(0, 5);
      if (choice >= 3) {
        // A move that respects range and step (the delay decides whether it lands).
        const lo = current - span > b.min ? current - span : b.min;
        const hi = current + span < b.max ? current + span : b.max;
        if (hi > lo) return lo + (hi - lo) * BigInt(rng.int(0, 1_000)) / 1_000n;
      }
      if (choice === 0) return current + BigInt(rng.int(-2, 2)) * span / 2n; // around one step, both sides
      if (choice === 1) return current + (rng.chance(0.5) ? span : -span) + BigInt(rng.int(-1, 1)); // at the edge
      if (choice === 2) return b.min + BigInt(rng.int(-3, 3)); // at the range edges
      return b.max + BigInt(rng.int(-3, 3));
    };
    const randomUpdates = () => {
      const n = rng.chance(0.7) ? 1 : rng.int(2, 3);
      const params = new Set<number>();
      while (params.size < n) params.add(rng.int(0, PARAM_COUNT - 1));
      return [...params].map((p) => [p, randomValue(p)] as [number, bigint]);
    };
    const send = async (call: () => Promise<unknown>) => {
      try {
        await call();
        counts.accepted++;
      } catch {
        counts.rejected++;
      }
    };

    for (let run = 0; run < RUNS; run++) {
      const roll = rng.next();
      let byGovernance = false;
      if (roll < 0.45) {
        await send(() => steward.connect(f.signers.keeper).updateParams(id, randomUpdates(), "0x" + "11".repeat(32)));
      } else if (roll < 0.55) {
        await send(() => steward.connect(f.signers.keeper).queueUpdate(id, randomUpdates(), "0x" + "22".repeat(32)));
      } else if (roll < 0.65) {
        const count = Number(await steward.queuedUpdateCount());
        const target = count === 0 ? 0 : rng.int(0, count); // sometimes one past the end
        await send(() => upkeep.performUpkeep(AbiCoder.defaultAbiCoder().encode(["uint256"], [target])));
      } else if (roll < 0.72) {
        const who = rng.pick([f.signers.outsider, f.signers.guardian, f.signers.deployer]);
        await send(() => steward.connect(who).updateParams(id, randomUpdates(), "0x" + "33".repeat(32)));
        await send(() => steward.connect(who).setBounds(id, rng.int(0, PARAM_COUNT - 1), [0, 10_000, 10_000, 0, 0]));
      } else if (roll < 0.78) {
        const frozen = rng.chance(0.5);
        await send(() => (rng.chance(0.5) ? steward.connect(f.signers.guardian).setMarketFrozen(id, frozen) : steward.connect(f.signers.guardian).setFrozen(frozen)));
      } else if (roll < 0.80) {
        byGovernance = true;
        counts.governanceCalls++;
        const p = rng.int(0, PARAM_COUNT - 1);
        const b = bounds[p];
        const widen = BigInt(rng.int(0, 100));
        await send(() => steward.connect(governance).setBounds(id, p, [b.min - widen, b.max + widen, b.maxStep + BigInt(rng.int(-1, 5)), BigInt(rng.int(0, 7_200)), b.stepKind]));
      } else {
        await helpers.time.increase(rng.int(1, 3) * rng.int(60, 3_000));
      }

      const nextBounds = byGovernance ? await readBounds() : bounds;
      const next = await readParams();
      if (!byGovernance) {
        expect(JSON.stringify(nextBounds, (_, v) => (typeof v === "bigint" ? v.toString() : v))).to.equal(
          JSON.stringify(bounds, (_, v) => (typeof v === "bigint" ? v.toString() : v)), `run ${run}: bounds changed outside governance`);
        for (let p = 0; p < PARAM_COUNT; p++) {
          if (next.values[p] === state.values[p] && next.updatedAts[p] === state.updatedAts[p]) continue;
          const b = bounds[p];
          const from = state.values[p];
          const to = next.values[p];
          const ctx = `run ${run}, param ${p}: ${from} -> ${to}`;
          expect(to >= b.min && to <= b.max, `${ctx} outside [${b.min}, ${b.max}]`).to.equal(true);
          const distance = to > from ? to - from : from - to;
          if (b.stepKind === 0n) expect(distance <= b.maxStep, `${ctx} step > ${b.maxStep}`).to.equal(true);
          else expect(distance * 10_000n <= b.maxStep * (from < 0n ? -from : from), `${ctx} relative step > ${b.maxStep} bps`).to.equal(true);
          expect(next.updatedAts[p] - state.updatedAts[p] >= b.minDelaySeconds, `${ctx} sooner than ${b.minDelaySeconds}s`).to.equal(true);
          if (roll < 0.55) counts.keeperMoves++;
          else counts.upkeepMoves++;
        }
      }
      expect(next.values[0] >= next.values[1], `run ${run}: initial margin below maintenance`).to.equal(true);
      bounds = nextBounds;
      state = next;
    }
    console.log(`      fuzz: ${RUNS} runs, seed ${SEED}: ${counts.accepted} calls accepted, ${counts.rejected} rejected; ` +
      `${counts.keeperMoves} keeper and ${counts.upkeepMoves} upkeep parameter moves checked; ${counts.governanceCalls} governance calls`);
    expect(counts.keeperMoves, "the fuzzer must exercise accepted keeper moves").to.be.greaterThan(0);
    expect(counts.rejected, "the fuzzer must exercise rejections").to.be.greaterThan(0);
  });
});
