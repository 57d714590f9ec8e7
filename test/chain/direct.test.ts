import { expect } from "chai";
import { Wallet } from "ethers";
import { isChainError } from "../../bot/chain/errors.ts";
import { submitDirectUpdate, submitQueuedUpdate } from "../../bot/chain/steward.ts";
import { PARAM } from "../../deploy/market-config.ts";
import { EVIDENCE, chainFixture, type ChainFixture } from "./support.ts";

describe("chain: the direct path (updateParams) and the automation path (queueUpdate)", () => {
  let f: ChainFixture;
  beforeEach(async () => {
    f = await chainFixture();
  });
  afterEach(async () => {
    await f.connection.close();
  });

  it("lands a bounded update once, with its evidence hash in ParamUpdated", async () => {
    const manager = f.manager();
    const change = f.change([{ parameter: "initialMarginBps", value: 1_150n }]);
    const nonceBefore = await f.provider.getTransactionCount(f.keeper.address);
    const r = await submitDirectUpdate(manager, f.steward, f.provider, change);
    expect(r.events).to.have.length(1);
    expect(r.events[0]).to.include({ parameter: "initialMarginBps", oldValue: 1_000n, newValue: 1_150n, evidenceHash: EVIDENCE, source: 0 });
    const [value] = await f.steward.read.getAllParams(f.deployment.market.id).then((x) => [x[0][PARAM.initialMarginBps]]);
    expect(value).to.equal(1_150n);
    // Submitting the same change again reconciles the journal: nothing new is sent.
    const again = await submitDirectUpdate(manager, f.steward, f.provider, change);
    expect(again.submission.dryRun).to.equal(false);
    expect(await f.provider.getTransactionCount(f.keeper.address)).to.equal(nonceBefore + 1);
    const logs = await f.provider.getLogs({ address: f.steward.address, fromBlock: 0, topics: [f.steward.iface.getEvent("ParamUpdated")!.topicHash] });
    expect(logs.filter((l) => l.topics[3] === EVIDENCE)).to.have.length(1);
  });

  it("refuses, before sending, an update the steward would reject, naming the bound it breaks", async () => {
    const manager = f.manager();
    const nonceBefore = await f.provider.getTransactionCount(f.keeper.address, "pending");
    const tooFar = f.change([{ parameter: "initialMarginBps", value: 1_500n }]); // maxStep 200
    const error = await submitDirectUpdate(manager, f.steward, f.provider, tooFar).catch((e: unknown) => e);
    expect(isChainError(error, "BOUNDS_VIOLATION"), String(error)).to.equal(true);
    const e = error as Error & { details: { mirror: { error: string }; steward: { name: string } } };
    expect(e.details.mirror.error).to.equal("StepTooLarge");
    expect(e.details.steward.name).to.equal("StewardStepTooLarge");
    expect(e.message).to.match(/initialMarginBps/).and.match(/maxStep 200/);
    expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(nonceBefore);
    // Too soon: a second move of the same parameter inside its 1 h min delay.
    await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]));
    const error2 = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_200n }])).catch((e: unknown) => e);
    expect((error2 as { details: { mirror: { error: string }; steward: { name: string } } }).details.mirror.error).to.equal("UpdateTooSoon");
    expect((error2 as { details: { steward: { name: string } } }).details.steward.name).to.equal("StewardUpdateTooSoon");
    expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(nonceBefore + 1);
  });

  it("refuses a signer without KEEPER_ROLE, naming the address and the role; nothing sent", async () => {
    const stranger = Wallet.createRandom();
    await f.helpers.setBalance(stranger.address, 10n ** 20n);
    const manager = f.manager({ signer: stranger });
    const error = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }])).catch((e: unknown) => e);
    expect(isChainError(error, "MISSING_ROLE"), String(error)).to.equal(true);
    expect((error as Error).message).to.include(stranger.address).and.include("KEEPER_ROLE");
    expect(await f.provider.getTransactionCount(stranger.address, "pending")).to.equal(0);
  });

  it("decodes a revert in simulation and sends nothing", async () => {
    const manager = f.manager();
    // Bypass the pre-checks: a raw updateParams call that the steward rejects.
    const data = f.steward.encode("updateParams", [f.deployment.market.id, [[PARAM.initialMarginBps, 9_000n]], EVIDENCE]);
    const error = await manager.submit({ updateId: "raw", to: f.steward.address, data }).catch((e: unknown) => e);
    expect(isChainError(error, "SIMULATION_REVERTED"), String(error)).to.equal(true);
    expect((error as Error).message).to.include("StewardValueOutOfRange");
    expect(await manager.journal.get("raw")).to.equal(undefined);
  });

  it("queues an update for the upkeep, which applies it after the queue delay", async () => {
    const manager = f.manager();
    const change = f.change([{ parameter: "liquidationBufferBps", value: 140n }]);
    const r = await submitQueuedUpdate(manager, f.steward, f.provider, change);
    expect(r.queued?.queueId).to.equal(0n);
    const q = await f.steward.read.getQueuedUpdate(0n);
    expect(q.evidenceHash).to.equal(EVIDENCE);
    await f.helpers.time.increase(601);
    const upkeep = await f.ethers.getContractAt("StewardUpkeep", f.deployment.contracts.upkeep);
    const [needed, performData] = await upkeep.getFunction("checkUpkeep")("0x");
    expect(needed).to.equal(true);
    await (await upkeep.getFunction("performUpkeep")(performData)).wait();
    const all = await f.steward.read.getAllParams(f.deployment.market.id);
    expect(all[0][PARAM.liquidationBufferBps]).to.equal(140n);
  });

  it("dry run: simulates and reports what would be sent, sends and records nothing", async () => {
    const manager = f.manager();
    const r = await submitDirectUpdate(manager, f.steward, f.provider, f.change([{ parameter: "initialMarginBps", value: 1_100n }]), { dryRun: true });
    expect(r.submission.dryRun).to.equal(true);
    const d = r.submission as { to: string; nonce: number; gasLimit: string; feeWithinCeiling: boolean };
    expect(d.to).to.equal(f.steward.address);
    expect(d.nonce).to.equal(0);
    expect(BigInt(d.gasLimit) > 50_000n).to.equal(true);
    expect(d.feeWithinCeiling).to.equal(true);
    expect(await f.provider.getTransactionCount(f.keeper.address, "pending")).to.equal(0);
    expect(await manager.journal.get(r.updateId)).to.equal(undefined);
  });
});
