import { expect } from "chai";
import { id as keccakText } from "ethers";
import { PARAM, marketId } from "../../deploy/market-config.ts";
import { deployFixture, type Fixture } from "../support/deployment.ts";

// ProposalState in OpenZeppelin's IGovernor.
const STATE = { Pending: 0n, Active: 1n, Canceled: 2n, Defeated: 3n, Succeeded: 4n, Queued: 5n, Expired: 6n, Executed: 7n };
const EVIDENCE = "0x" + "ef".repeat(32);
const IM = PARAM.initialMarginBps;

describe("Governance: Governor + Timelock own the steward's bounds", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await deployFixture();
  });
  afterEach(async () => {
    await f.connection.close();
  });

  it("changes bounds and an out-of-bounds value through propose, vote, queue and execute", async () => {
    const { governor, steward, timelock, helpers } = f;
    const id = f.marketId;
    const stewardAddress = await steward.getAddress();
    const newBounds = [300n, 8_000n, 1_000n, 1_800n, 0n];
    const calls = [
      steward.interface.encodeFunctionData("setBounds", [id, IM, newBounds]),
      steward.interface.encodeFunctionData("setParams", [id, [[IM, 6_000]], EVIDENCE]),
    ];
    const targets = [stewardAddress, stewardAddress];
    const values = [0n, 0n];
    const description = `riskkeeper: widen ETH-USD initial margin bounds for a crash regime\nevidence ${EVIDENCE}`;
    const descriptionHash = keccakText(description);

    await expect(governor.propose(targets, values, calls, description)).to.emit(governor, "ProposalCreated");
    const proposalId = await governor.hashProposal(targets, values, calls, descriptionHash);
    expect(await governor.state(proposalId)).to.equal(STATE.Pending);

    await helpers.mine(2); // voting delay: 1 block
    expect(await governor.state(proposalId)).to.equal(STATE.Active);
    await expect(governor.castVote(proposalId, 1)).to.emit(governor, "VoteCast");
    // An outsider without tokens votes with zero weight and changes nothing.
    await governor.connect(f.signers.outsider).castVote(proposalId, 0);
    const [against, forVotes] = await governor.proposalVotes(proposalId);
    expect(against).to.equal(0n);
    expect(forVotes).to.equal(1_000_000n * 10n ** 18n);

    await helpers.mine(50); // voting period
    expect(await governor.state(proposalId)).to.equal(STATE.Succeeded);
    // Nobody can call the steward's governance functions directly, not even the governor.
    await expect(steward.setBounds(id, IM, newBounds)).to.be.revertedWithCustomError(steward, "AccessControlUnauthorizedAccount");

    await expect(governor.queue(targets, values, calls, descriptionHash)).to.emit(governor, "ProposalQueued");
    expect(await governor.state(proposalId)).to.equal(STATE.Queued);
    await expect(governor.execute(targets, values, calls, descriptionHash)).to.be.revertedWithCustomError(timelock, "TimelockUnexpectedOperationState");

    await helpers.time.increase(3_600);
    const tx = governor.execute(targets, values, calls, descriptionHash);
    await expect(tx).to.emit(steward, "BoundsSet");
    await expect(tx).to.emit(steward, "ParamUpdated").withArgs(id, IM, 1_000, 6_000, EVIDENCE, 1);
    expect(await governor.state(proposalId)).to.equal(STATE.Executed);
    const b = await steward.getBounds(id, IM);
    expect([b.min, b.max, b.maxStep, b.minDelaySeconds]).to.deep.equal(newBounds.slice(0, 4));
    expect((await steward.getMarginParams(id))[0]).to.equal(6_000n);
    // The keeper now moves within the new bounds: a 1,000 bps step after 30 minutes.
    await helpers.time.increase(1_800);
    await steward.connect(f.signers.keeper).updateParams(id, [[IM, 7_000]], EVIDENCE);
    expect((await steward.getMarginParams(id))[0]).to.equal(7_000n);
  });

  it("defeats a proposal without quorum and never touches the steward", async () => {
    const { governor, steward, helpers } = f;
    const target = await steward.getAddress();
    const call = steward.interface.encodeFunctionData("createMarket", [marketId("BTC-USD")]);
    const description = "create BTC-USD";
    await governor.propose([target], [0n], [call], description);
    const proposalId = await governor.hashProposal([target], [0n], [call], keccakText(description));
    await helpers.mine(52);
    expect(await governor.state(proposalId)).to.equal(STATE.Defeated);
    await expect(governor.queue([target], [0n], [call], keccakText(description))).to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState");
    expect(await steward.marketExists(marketId("BTC-USD"))).to.equal(false);
  });

  it("leaves no admin backdoor: the timelock administers itself, the governor is its only proposer", async () => {
    const { timelock, governor } = f;
    const deployer = f.signers.deployer.address;
    expect(await timelock.hasRole(await timelock.DEFAULT_ADMIN_ROLE(), deployer)).to.equal(false);
    expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), await governor.getAddress())).to.equal(true);
    expect(await timelock.hasRole(await timelock.PROPOSER_ROLE(), deployer)).to.equal(false);
    await expect(timelock.schedule(await f.steward.getAddress(), 0, "0x", "0x" + "00".repeat(32), "0x" + "00".repeat(32), 3_600))
      .to.be.revertedWithCustomError(timelock, "AccessControlUnauthorizedAccount");
  });
});
