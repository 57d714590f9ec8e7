import { expect } from "chai";
import { DEFAULT_MARKET, PARAM, PARAM_NAMES, boundsTuple, marketId } from "../../deploy/market-config.ts";
import { deployFixture, type Fixture } from "../support/deployment.ts";

const HOUR = 3_600;
const EVIDENCE = "0x" + "ab".repeat(32);
const ZERO_HASH = "0x" + "00".repeat(32);
const IM = PARAM.initialMarginBps;
const MM = PARAM.maintenanceMarginBps;
const LB = PARAM.liquidationBufferBps;
const VOL = PARAM.volAnnualPpm;
const SOURCE = { keeper: 0n, governance: 1n, automation: 2n };

describe("RiskParameterSteward", () => {
  let f: Fixture;
  let steward: Fixture["steward"];
  let id: string;
  let timelockSigner: Awaited<ReturnType<Fixture["ethers"]["getSigner"]>>;

  const asKeeper = () => steward.connect(f.signers.keeper);
  const asGuardian = () => steward.connect(f.signers.guardian);
  const asOutsider = () => steward.connect(f.signers.outsider);
  const asGovernance = () => steward.connect(timelockSigner);
  const value = async (param: number) => (await steward.getParam(id, param))[0] as bigint;
  /** Every parameter value and timestamp: compared before and after a revert to prove nothing moved. */
  const snapshot = async () => {
    const [values, updatedAts] = await steward.getAllParams(id);
    return [values.map(String), updatedAts.map(String), await steward.queuedUpdateCount()].join("|");
  };

  beforeEach(async () => {
    f = await deployFixture();
    steward = f.steward;
    id = f.marketId;
    await f.helpers.impersonateAccount(f.deployment.contracts.timelock);
    await f.helpers.setBalance(f.deployment.contracts.timelock, 10n ** 20n);
    timelockSigner = await f.ethers.getSigner(f.deployment.contracts.timelock);
    await f.helpers.time.increase(HOUR); // past the genesis min delay
  });
  afterEach(async () => {
    await f.connection.close();
  });

  describe("reads", () => {
    it("serves the genesis values, bounds and margin triple", async () => {
      for (const name of PARAM_NAMES) expect(await value(PARAM[name])).to.equal(DEFAULT_MARKET.initialValues[name]);
      expect(await steward.getMarginParams(id)).to.deep.equal([1_000n, 500n, 100n]);
      const b = await steward.getBounds(id, IM);
      expect([b.min, b.max, b.maxStep, b.minDelaySeconds, b.stepKind]).to.deep.equal(boundsTuple(DEFAULT_MARKET.bounds.initialMarginBps).map(BigInt));
      expect(await steward.marketExists(id)).to.equal(true);
      expect(await steward.marketExists(marketId("NOPE"))).to.equal(false);
    });

    it("rejects reads of an unknown market or parameter", async () => {
      await expect(steward.getParam(marketId("NOPE"), IM)).to.be.revertedWithCustomError(steward, "StewardUnknownMarket").withArgs(marketId("NOPE"));
      await expect(steward.getParam(id, 12)).to.be.revertedWithCustomError(steward, "StewardUnknownParam").withArgs(12);
      await expect(steward.getMarginParams(marketId("NOPE"))).to.be.revertedWithCustomError(steward, "StewardUnknownMarket");
    });
  });

  describe("keeper updates", () => {
    it("moves several parameters within bounds in one call and emits old, new and evidence", async () => {
      const tx = asKeeper().updateParams(id, [[IM, 1_200], [MM, 600], [VOL, 1_000_000]], EVIDENCE);
      await expect(tx).to.emit(steward, "ParamUpdated").withArgs(id, IM, 1_000, 1_200, EVIDENCE, SOURCE.keeper);
      await expect(tx).to.emit(steward, "ParamUpdated").withArgs(id, MM, 500, 600, EVIDENCE, SOURCE.keeper);
      await expect(tx).to.emit(steward, "ParamUpdated").withArgs(id, VOL, 800_000, 1_000_000, EVIDENCE, SOURCE.keeper);
      expect(await steward.getMarginParams(id)).to.deep.equal([1_200n, 600n, 100n]);
      const block = await f.ethers.provider.getBlock("latest");
      expect((await steward.getParam(id, IM))[1]).to.equal(BigInt(block!.timestamp));
    });

    it("accepts a step exactly at maxStep (absolute) and exactly at the relative limit", async () => {
      await asKeeper().updateParams(id, [[IM, 1_200], [VOL, 1_000_000]], EVIDENCE); // +200 bps, +25%
      expect(await value(IM)).to.equal(1_200n);
      expect(await value(VOL)).to.equal(1_000_000n);
    });

    const rejections: Array<{ name: string; updates: Array<[number, bigint | number]>; error: string; args: (ctx: { id: string }) => unknown[]; setup?: () => Promise<void> }> = [
      { name: "a value above max", updates: [[LB, 1_001]], error: "StewardValueOutOfRange", args: ({ id }) => [id, LB, 1_001, 25, 1_000] },
      { name: "a value below min", updates: [[MM, 149]], error: "StewardValueOutOfRange", args: ({ id }) => [id, MM, 149, 150, 4_000] },
      { name: "an absolute step one bps too large", updates: [[IM, 1_201]], error: "StewardStepTooLarge", args: ({ id }) => [id, IM, 1_000, 1_201, 200] },
      { name: "a downward absolute step too large", updates: [[IM, 799]], error: "StewardStepTooLarge", args: ({ id }) => [id, IM, 1_000, 799, 200] },
      { name: "a relative step above 25%", updates: [[VOL, 1_000_001]], error: "StewardStepTooLarge", args: ({ id }) => [id, VOL, 800_000, 1_000_001, 2_500] },
      { name: "no change", updates: [[IM, 1_000]], error: "StewardNoChange", args: ({ id }) => [id, IM] },
      { name: "initial margin below maintenance", updates: [[IM, 550]], error: "StewardMarginOrder", args: ({ id }) => [id, 550, 600], setup: async () => {
        await asGovernance().setParams(id, [[IM, 700], [MM, 600]], EVIDENCE);
        await f.helpers.time.increase(HOUR);
      } },
      { name: "an unknown parameter id", updates: [[12, 1]], error: "StewardUnknownParam", args: () => [12] },
      { name: "a parameter id far out of uint8 range of ids", updates: [[255, 1]], error: "StewardUnknownParam", args: () => [255] },
      { name: "the same parameter twice", updates: [[IM, 1_100], [IM, 1_150]], error: "StewardDuplicateParam", args: () => [IM] },
      { name: "an empty update", updates: [], error: "StewardEmptyUpdate", args: () => [] },
    ];
    for (const r of rejections) {
      it(`rejects ${r.name} with ${r.error}, state unchanged`, async () => {
        await r.setup?.();
        const before = await snapshot();
        await expect(asKeeper().updateParams(id, r.updates, EVIDENCE)).to.be.revertedWithCustomError(steward, r.error).withArgs(...r.args({ id }));
        const reason = await steward.checkUpdate(id, r.updates);
        expect(steward.interface.parseError(reason)?.name).to.equal(r.error);
        expect(await snapshot()).to.equal(before);
      });
    }

    it("rejects an update without evidence", async () => {
      await expect(asKeeper().updateParams(id, [[IM, 1_100]], ZERO_HASH)).to.be.revertedWithCustomError(steward, "StewardMissingEvidence");
    });

    it("rejects an unknown market", async () => {
      const other = marketId("BTC-USD");
      await expect(asKeeper().updateParams(other, [[IM, 1_100]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardUnknownMarket").withArgs(other);
    });

    it("enforces the min delay per parameter, to the second", async () => {
      await asKeeper().updateParams(id, [[IM, 1_100]], EVIDENCE);
      const updatedAt = (await steward.getParam(id, IM))[1] as bigint;
      await expect(asKeeper().updateParams(id, [[IM, 1_200]], EVIDENCE))
        .to.be.revertedWithCustomError(steward, "StewardUpdateTooSoon").withArgs(id, IM, updatedAt, updatedAt + 3_600n);
      // Another parameter has its own clock.
      await asKeeper().updateParams(id, [[LB, 150]], EVIDENCE);
      await f.helpers.time.setNextBlockTimestamp(updatedAt + 3_599n);
      await expect(asKeeper().updateParams(id, [[IM, 1_200]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardUpdateTooSoon");
      await f.helpers.time.setNextBlockTimestamp(updatedAt + 3_600n);
      await asKeeper().updateParams(id, [[IM, 1_200]], EVIDENCE);
      expect(await value(IM)).to.equal(1_200n);
    });

    it("rejects a relative step from zero and a parameter with no bounds", async () => {
      const fresh = marketId("FRESH");
      await asGovernance().createMarket(fresh);
      await expect(asKeeper().updateParams(fresh, [[VOL, 100_000]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardParamNotConfigured").withArgs(fresh, VOL);
      await asGovernance().setBounds(fresh, VOL, [100_000, 2_000_000, 2_500, 0, 1]);
      await expect(asKeeper().updateParams(fresh, [[VOL, 100_000]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardRelativeStepFromZero").withArgs(fresh, VOL);
    });

    it("is closed to everyone without KEEPER_ROLE", async () => {
      const keeperRole = await steward.KEEPER_ROLE();
      for (const who of [f.signers.outsider, f.signers.guardian, f.signers.deployer]) {
        await expect(steward.connect(who).updateParams(id, [[IM, 1_100]], EVIDENCE))
          .to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount").withArgs(who.address, keeperRole);
        await expect(steward.connect(who).queueUpdate(id, [[IM, 1_100]], EVIDENCE))
          .to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount").withArgs(who.address, keeperRole);
      }
    });
  });

  describe("governance (timelock)", () => {
    it("is the only admin after deployment: the deployer renounced", async () => {
      const admin = await steward.DEFAULT_ADMIN_ROLE();
      expect(await steward.hasRole(admin, f.deployment.contracts.timelock)).to.equal(true);
      expect(await steward.hasRole(admin, f.signers.deployer.address)).to.equal(false);
    });

    it("may set any value in the domain, ignoring range, step and delay", async () => {
      await expect(asGovernance().setParams(id, [[IM, 6_000], [MM, 4_500]], EVIDENCE))
        .to.emit(steward, "ParamUpdated").withArgs(id, IM, 1_000, 6_000, EVIDENCE, SOURCE.governance);
      expect(await steward.getMarginParams(id)).to.deep.equal([6_000n, 4_500n, 100n]);
    });

    it("cannot leave the domain or the margin order", async () => {
      await expect(asGovernance().setParams(id, [[IM, 10_001]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardValueOutOfDomain").withArgs(IM, 10_001);
      await expect(asGovernance().setParams(id, [[LB, -1]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardValueOutOfDomain").withArgs(LB, -1);
      await expect(asGovernance().setParams(id, [[VOL, 10n ** 12n + 1n]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardValueOutOfDomain");
      await expect(asGovernance().setParams(id, [[MM, 2_000]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardMarginOrder").withArgs(id, 1_000, 2_000);
    });

    it("validates bounds: inverted, zero step, out of domain, absurd delay", async () => {
      const before = await snapshot();
      await expect(asGovernance().setBounds(id, IM, [500, 400, 100, 0, 0])).to.be.revertedWithCustomError(steward, "StewardInvertedBounds").withArgs(IM, 500, 400);
      await expect(asGovernance().setBounds(id, IM, [100, 400, 0, 0, 0])).to.be.revertedWithCustomError(steward, "StewardZeroStep").withArgs(IM);
      await expect(asGovernance().setBounds(id, IM, [0, 10_001, 100, 0, 0])).to.be.revertedWithCustomError(steward, "StewardBoundsOutOfDomain").withArgs(IM, 0, 10_001, 100);
      await expect(asGovernance().setBounds(id, IM, [0, 5_000, 10_001, 0, 0])).to.be.revertedWithCustomError(steward, "StewardBoundsOutOfDomain");
      await expect(asGovernance().setBounds(id, VOL, [0, 5_000, 1_000_001, 0, 1])).to.be.revertedWithCustomError(steward, "StewardBoundsOutOfDomain");
      await expect(asGovernance().setBounds(id, VOL, [0, 10n ** 13n, 1, 0, 0])).to.be.revertedWithCustomError(steward, "StewardBoundsOutOfDomain");
      await expect(asGovernance().setBounds(id, IM, [0, 5_000, 100, 366n * 86_400n, 0])).to.be.revertedWithCustomError(steward, "StewardBoundsOutOfDomain");
      await expect(asGovernance().setBounds(id, 12, [0, 5_000, 100, 0, 0])).to.be.revertedWithCustomError(steward, "StewardUnknownParam").withArgs(12);
      await expect(asGovernance().setBounds(marketId("NOPE"), IM, [0, 5_000, 100, 0, 0])).to.be.revertedWithCustomError(steward, "StewardUnknownMarket");
      expect(await snapshot()).to.equal(before);
      await expect(asGovernance().setBounds(id, IM, [500, 2_000, 50, 60, 0])).to.emit(steward, "BoundsSet");
      await expect(asKeeper().updateParams(id, [[IM, 1_051]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardStepTooLarge").withArgs(id, IM, 1_000, 1_051, 50);
    });

    it("creates markets once and sets queue timing with checks", async () => {
      await expect(asGovernance().createMarket(id)).to.be.revertedWithCustomError(steward, "StewardMarketExists").withArgs(id);
      await expect(asGovernance().setQueueTiming(60, 0)).to.be.revertedWithCustomError(steward, "StewardInvalidQueueTiming").withArgs(60, 0);
      await asGovernance().setQueueTiming(60, 120);
      expect(await steward.queueTiming()).to.deep.equal([60n, 120n]);
    });

    it("is closed to keeper, guardian and outsiders", async () => {
      const admin = await steward.DEFAULT_ADMIN_ROLE();
      for (const who of [f.signers.keeper, f.signers.guardian, f.signers.outsider]) {
        const s = steward.connect(who);
        await expect(s.setBounds(id, IM, [0, 5_000, 100, 0, 0])).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount").withArgs(who.address, admin);
        await expect(s.setParams(id, [[IM, 5_000]], EVIDENCE)).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount");
        await expect(s.createMarket(marketId("X"))).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount");
        await expect(s.setQueueTiming(1, 1)).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount");
        await expect(s.grantRole(await steward.KEEPER_ROLE(), who.address)).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount");
      }
    });
  });

  describe("guardian", () => {
    it("freezes a market: keeper updates stop, reads go on, unfreeze resumes", async () => {
      await expect(asGuardian().setMarketFrozen(id, true)).to.emit(steward, "MarketFrozen").withArgs(id, true, f.signers.guardian.address);
      expect(await steward.isFrozen(id)).to.equal(true);
      await expect(asKeeper().updateParams(id, [[IM, 1_100]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardMarketIsFrozen").withArgs(id);
      expect(await steward.getMarginParams(id)).to.deep.equal([1_000n, 500n, 100n]);
      await asGuardian().setMarketFrozen(id, false);
      await asKeeper().updateParams(id, [[IM, 1_100]], EVIDENCE);
    });

    it("freezes the whole steward", async () => {
      await expect(asGuardian().setFrozen(true)).to.emit(steward, "StewardFrozen").withArgs(true, f.signers.guardian.address);
      await expect(asKeeper().updateParams(id, [[IM, 1_100]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardIsFrozen");
      await expect(asKeeper().queueUpdate(id, [[IM, 1_100]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardIsFrozen");
      // Governance can still act in an emergency.
      await asGovernance().setParams(id, [[IM, 2_000]], EVIDENCE);
      await asGovernance().setFrozen(false);
      expect(await steward.stewardFrozen()).to.equal(false);
    });

    it("cannot move parameters or bounds; outsiders cannot freeze", async () => {
      await expect(asGuardian().updateParams(id, [[IM, 1_100]], EVIDENCE)).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount");
      await expect(asGuardian().setParams(id, [[IM, 1_100]], EVIDENCE)).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount");
      for (const who of [f.signers.keeper, f.signers.outsider]) {
        await expect(steward.connect(who).setFrozen(true)).to.be.revertedWithCustomError(steward, "StewardUnauthorized").withArgs(who.address);
        await expect(steward.connect(who).setMarketFrozen(id, true)).to.be.revertedWithCustomError(steward, "StewardUnauthorized");
        await expect(steward.connect(who).cancelQueued(0)).to.be.revertedWithCustomError(steward, "StewardUnauthorized");
      }
      await expect(asGuardian().setMarketFrozen(marketId("NOPE"), true)).to.be.revertedWithCustomError(steward, "StewardUnknownMarket");
    });
  });

  describe("queue", () => {
    it("queues a bounded update, rejects a doomed one at once, and lets the guardian cancel", async () => {
      await expect(asKeeper().queueUpdate(id, [[IM, 1_300]], EVIDENCE)).to.be.revertedWithCustomError(steward, "StewardStepTooLarge");
      await expect(asKeeper().queueUpdate(id, [[IM, 1_100]], EVIDENCE)).to.emit(steward, "UpdateQueued");
      const q = await steward.getQueuedUpdate(0);
      expect(q.executableAt - q.queuedAt).to.equal(600n);
      expect(q.expiresAt - q.executableAt).to.equal(86_400n);
      expect(q.status).to.equal(1n);
      await expect(asGuardian().cancelQueued(0)).to.emit(steward, "QueuedUpdateCancelled").withArgs(0, f.signers.guardian.address);
      await expect(asGuardian().cancelQueued(0)).to.be.revertedWithCustomError(steward, "StewardUpdateNotQueued").withArgs(0, 3);
      await expect(asGuardian().cancelQueued(7)).to.be.revertedWithCustomError(steward, "StewardUnknownUpdate").withArgs(7);
      await expect(steward.getQueuedUpdate(7)).to.be.revertedWithCustomError(steward, "StewardUnknownUpdate").withArgs(7);
    });

    it("executes only through EXECUTOR_ROLE", async () => {
      await asKeeper().queueUpdate(id, [[IM, 1_100]], EVIDENCE);
      await f.helpers.time.increase(601);
      const executor = await steward.EXECUTOR_ROLE();
      await expect(asKeeper().executeQueued(0)).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount").withArgs(f.signers.keeper.address, executor);
    });
  });
});
