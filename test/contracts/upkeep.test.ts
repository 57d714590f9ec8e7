import { expect } from "chai";
import { AbiCoder } from "ethers";
import { PARAM } from "../../deploy/market-config.ts";
import { deployFixture, type Fixture } from "../support/deployment.ts";

const EVIDENCE = "0x" + "cd".repeat(32);
const IM = PARAM.initialMarginBps;
const encodeId = (id: number | bigint) => AbiCoder.defaultAbiCoder().encode(["uint256"], [id]);

describe("StewardUpkeep (Chainlink Automation)", () => {
  let f: Fixture;
  let steward: Fixture["steward"];
  let upkeep: Fixture["upkeep"];
  let id: string;

  beforeEach(async () => {
    f = await deployFixture();
    ({ steward, upkeep } = f);
    id = f.marketId;
    await f.helpers.time.increase(3_600);
    await steward.connect(f.signers.keeper).queueUpdate(id, [[IM, 1_150]], EVIDENCE);
  });
  afterEach(async () => {
    await f.connection.close();
  });

  it("reports nothing to do before the queue delay, then the ready update", async () => {
    expect(await upkeep.checkUpkeep("0x")).to.deep.equal([false, "0x"]);
    await f.helpers.time.increase(600);
    expect(await upkeep.checkUpkeep("0x")).to.deep.equal([true, encodeId(0)]);
  });

  it("applies a queued update once and only once, with its evidence hash", async () => {
    await f.helpers.time.increase(600);
    const [, performData] = await upkeep.checkUpkeep("0x");
    const tx = upkeep.connect(f.signers.outsider).performUpkeep(performData);
    await expect(tx).to.emit(steward, "ParamUpdated").withArgs(id, IM, 1_000, 1_150, EVIDENCE, 2);
    await expect(tx).to.emit(steward, "QueuedUpdateExecuted").withArgs(0, id);
    await expect(tx).to.emit(upkeep, "UpkeepPerformed").withArgs(0, f.signers.outsider.address);
    expect((await steward.getMarginParams(id))[0]).to.equal(1_150n);
    expect((await steward.getQueuedUpdate(0)).status).to.equal(2n);
    // The same performData again, by anyone: refused with the steward's reason (already executed).
    const again = upkeep.performUpkeep(performData);
    const reason = steward.interface.encodeErrorResult("StewardUpdateNotQueued", [0, 2]);
    await expect(again).to.be.revertedWithCustomError(upkeep, "UpkeepNotExecutable").withArgs(0, reason);
    expect(await upkeep.checkUpkeep("0x")).to.deep.equal([false, "0x"]);
  });

  it("never trusts performData: forged ids, lengths and early calls are refused, state unchanged", async () => {
    const before = (await steward.getMarginParams(id)).join();
    await expect(upkeep.performUpkeep("0x")).to.be.revertedWithCustomError(upkeep, "UpkeepInvalidPerformData").withArgs(0);
    await expect(upkeep.performUpkeep("0x1234")).to.be.revertedWithCustomError(upkeep, "UpkeepInvalidPerformData").withArgs(2);
    await expect(upkeep.performUpkeep(encodeId(0) + "00")).to.be.revertedWithCustomError(upkeep, "UpkeepInvalidPerformData").withArgs(33);
    await expect(upkeep.performUpkeep(encodeId(99))).to.be.revertedWithCustomError(upkeep, "UpkeepNotExecutable")
      .withArgs(99, steward.interface.encodeErrorResult("StewardUnknownUpdate", [99]));
    const q = await steward.getQueuedUpdate(0);
    await expect(upkeep.performUpkeep(encodeId(0))).to.be.revertedWithCustomError(upkeep, "UpkeepNotExecutable")
      .withArgs(0, steward.interface.encodeErrorResult("StewardUpdateNotReady", [0, q.executableAt]));
    await expect(upkeep.checkUpkeep("0x12")).to.be.revertedWithCustomError(upkeep, "UpkeepInvalidCheckData").withArgs(1);
    expect((await steward.getMarginParams(id)).join()).to.equal(before);
  });

  it("re-checks bounds as they are at execution: a tightened bound blocks the queued update", async () => {
    await f.helpers.impersonateAccount(f.deployment.contracts.timelock);
    await f.helpers.setBalance(f.deployment.contracts.timelock, 10n ** 20n);
    const governance = await f.ethers.getSigner(f.deployment.contracts.timelock);
    await steward.connect(governance).setBounds(id, IM, [300, 5_000, 100, 3_600, 0]);
    await f.helpers.time.increase(600);
    expect((await upkeep.checkUpkeep("0x"))[0]).to.equal(false);
    await expect(upkeep.performUpkeep(encodeId(0))).to.be.revertedWithCustomError(upkeep, "UpkeepNotExecutable")
      .withArgs(0, steward.interface.encodeErrorResult("StewardStepTooLarge", [id, IM, 1_000, 1_150, 100]));
  });

  it("refuses frozen markets, cancelled and expired updates", async () => {
    await f.helpers.time.increase(600);
    await steward.connect(f.signers.guardian).setMarketFrozen(id, true);
    await expect(upkeep.performUpkeep(encodeId(0))).to.be.revertedWithCustomError(upkeep, "UpkeepNotExecutable")
      .withArgs(0, steward.interface.encodeErrorResult("StewardMarketIsFrozen", [id]));
    await steward.connect(f.signers.guardian).setMarketFrozen(id, false);
    const q = await steward.getQueuedUpdate(0);
    await f.helpers.time.increaseTo(q.expiresAt + 1n);
    await expect(upkeep.performUpkeep(encodeId(0))).to.be.revertedWithCustomError(upkeep, "UpkeepNotExecutable")
      .withArgs(0, steward.interface.encodeErrorResult("StewardUpdateExpired", [0, q.expiresAt]));
    await steward.connect(f.signers.keeper).queueUpdate(id, [[IM, 1_100]], EVIDENCE);
    await steward.connect(f.signers.guardian).cancelQueued(1);
    await f.helpers.time.increase(600);
    await expect(upkeep.performUpkeep(encodeId(1))).to.be.revertedWithCustomError(upkeep, "UpkeepNotExecutable")
      .withArgs(1, steward.interface.encodeErrorResult("StewardUpdateNotQueued", [1, 3]));
  });

  it("re-checks the min delay at execution: a direct update in between blocks the queued one", async () => {
    await steward.connect(f.signers.keeper).updateParams(id, [[IM, 1_050]], EVIDENCE);
    await f.helpers.time.increase(600);
    expect((await upkeep.checkUpkeep("0x"))[0]).to.equal(false);
    await expect(upkeep.performUpkeep(encodeId(0))).to.be.revertedWithCustomError(upkeep, "UpkeepNotExecutable");
  });

  it("scans from the id given in checkData", async () => {
    await f.helpers.time.increase(3_600);
    await steward.connect(f.signers.keeper).queueUpdate(id, [[PARAM.liquidationBufferBps, 120]], EVIDENCE);
    await f.helpers.time.increase(600);
    expect(await upkeep.checkUpkeep(encodeId(1))).to.deep.equal([true, encodeId(1)]);
    expect(await upkeep.checkUpkeep(encodeId(2))).to.deep.equal([false, "0x"]);
  });
});
