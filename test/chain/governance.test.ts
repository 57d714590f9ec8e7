import { expect } from "chai";
import { Interface } from "ethers";
import { isChainError } from "../../bot/chain/errors.ts";
import { advanceGovernanceProposal, buildGovernanceProposal, followGovernanceProposal, proposalState, type GovernanceStep } from "../../bot/chain/governance.ts";
import { buildSafeBatch, safeBatchChecksum, validateSafeBatch, type SafeBatch } from "../../bot/chain/safe-batch.ts";
import { PARAM } from "../../deploy/market-config.ts";
import { EVIDENCE, chainFixture, fakeClock, type ChainFixture } from "./support.ts";

describe("chain: governance and Safe paths", () => {
  let f: ChainFixture;
  beforeEach(async () => {
    f = await chainFixture();
  });
  afterEach(async () => {
    await f.connection.close();
  });

  // Outside the keeper's bounds (max 5,000, step 200): only governance may set it.
  const crashChange = () => ({ ...f.change([{ parameter: "initialMarginBps", value: 6_000n }]), evidenceSummary: "FHS 99% ES 24h = 41%: crash regime" });

  it("takes a proposal through its whole life: proposed, pending, active, succeeded, queued, executed", async () => {
    const change = crashChange();
    const proposal = buildGovernanceProposal(f.steward, change);
    expect(await f.governor.read.hashProposal(proposal.targets, proposal.values, proposal.calldatas, proposal.descriptionHash)).to.equal(proposal.proposalId);
    expect(proposal.description).to.include(EVIDENCE).and.include("crash regime").and.include("initialMarginBps = 6000");
    expect(await proposalState(f.governor, proposal.proposalId)).to.equal("unknown");

    const governor = await f.ethers.getContractAt("RiskGovernor", f.governor.address, f.deployer); // holds every vote
    const seen: string[] = [];
    let voted = false;
    const clock = fakeClock();
    const onStep = async (step: GovernanceStep) => {
      seen.push(`${step.state}->${step.action}`);
      if (step.state === "active" && !voted) {
        await (await governor.getFunction("castVote")(proposal.proposalId, 1)).wait();
        voted = true;
      }
      if (step.action === "waiting") {
        if (step.state === "queued") await f.helpers.time.increase(3_600);
        else await f.helpers.mine(step.state === "pending" ? 2 : 50);
      }
    };
    const manager = f.manager();
    const steps = await followGovernanceProposal(manager, f.governor, f.provider, proposal, { clock, onStep, pollIntervalMs: 1_000 });
    expect(seen).to.deep.equal(["unknown->proposed", "pending->waiting", "active->waiting", "succeeded->queued", "queued->waiting", "queued->executed"]);
    expect(await proposalState(f.governor, proposal.proposalId)).to.equal("executed");
    const all = await f.steward.read.getAllParams(f.deployment.market.id);
    expect(all[0][PARAM.initialMarginBps]).to.equal(6_000n);
    // The execution carried the evidence hash, from the governance source (1).
    const execReceipt = (steps.at(-1)!.submission as unknown as { receipt: { logs: Array<{ topics: string[]; data: string; address: string }> } }).receipt;
    const updated = execReceipt.logs.map((l) => (l.address === f.steward.address ? f.steward.iface.parseLog(l) : null)).find((p) => p?.name === "ParamUpdated");
    expect(updated!.args[4]).to.equal(EVIDENCE);
    expect(updated!.args[5]).to.equal(1n);
    // Done is done: a further step sends nothing.
    const nonce = await f.provider.getTransactionCount(f.keeper.address);
    expect((await advanceGovernanceProposal(manager, f.governor, f.provider, proposal)).action).to.equal("done");
    expect(await f.provider.getTransactionCount(f.keeper.address)).to.equal(nonce);
  });

  it("reports a defeated proposal and never queues it", async () => {
    const proposal = buildGovernanceProposal(f.steward, crashChange());
    const manager = f.manager();
    await advanceGovernanceProposal(manager, f.governor, f.provider, proposal);
    await f.helpers.mine(60); // nobody votes: no quorum
    const step = await advanceGovernanceProposal(manager, f.governor, f.provider, proposal);
    expect(step).to.include({ state: "defeated", action: "failed" });
    const error = await followGovernanceProposal(manager, f.governor, f.provider, proposal, { clock: fakeClock() }).catch((e: unknown) => e);
    expect(isChainError(error, "PROPOSAL_STATE")).to.equal(true);
  });

  it("proposes once: a re-run while the vote is pending waits and sends nothing", async () => {
    const proposal = buildGovernanceProposal(f.steward, crashChange());
    expect((await advanceGovernanceProposal(f.manager(), f.governor, f.provider, proposal)).action).to.equal("proposed");
    const nonce = await f.provider.getTransactionCount(f.keeper.address);
    // A new process (fresh manager and journal) sees the proposal on chain.
    const step = await advanceGovernanceProposal(f.manager(), f.governor, f.provider, proposal);
    expect(step).to.include({ state: "pending", action: "waiting" });
    expect(await f.provider.getTransactionCount(f.keeper.address)).to.equal(nonce);
  });

  it("exports the same change as a Safe Transaction Builder batch that passes the schema", async () => {
    const change = crashChange();
    const safe = "0x" + "a1".repeat(20);
    const batch = buildSafeBatch(f.steward, change, { chainId: f.deployment.chainId, safeAddress: safe, createdAt: 1_764_000_000_000 });
    expect(validateSafeBatch(batch)).to.deep.equal([]);
    expect(validateSafeBatch(JSON.parse(JSON.stringify(batch)))).to.deep.equal([]);
    expect(batch).to.include({ version: "1.0", chainId: "31337", createdAt: 1_764_000_000_000 });
    expect(batch.meta.description).to.include(EVIDENCE);
    // The same calldata as the governance proposal, and contractInputsValues re-encode to it.
    const proposal = buildGovernanceProposal(f.steward, change);
    const [tx] = batch.transactions;
    expect(tx!.data).to.equal(proposal.calldatas[0]);
    expect(tx!.to).to.equal(proposal.targets[0]);
    const iface = new Interface([{ type: "function", name: tx!.contractMethod.name, inputs: tx!.contractMethod.inputs, outputs: [], stateMutability: "nonpayable" }]);
    const v = tx!.contractInputsValues;
    const reencoded = iface.encodeFunctionData(tx!.contractMethod.name, [v.market, JSON.parse(v.updates!), v.evidenceHash]);
    expect(reencoded).to.equal(tx!.data);
    // Keeper-role Safe: updateParams.
    const keeperBatch = buildSafeBatch(f.steward, change, { chainId: 31337n, safeAddress: safe, createdAt: 1, call: "updateParams" });
    expect(keeperBatch.transactions[0]!.contractMethod.name).to.equal("updateParams");
  });

  it("the schema check rejects broken batches, naming the path", async () => {
    const good = buildSafeBatch(f.steward, crashChange(), { chainId: 31337n, safeAddress: "0x" + "a1".repeat(20), createdAt: 1 });
    const cases: Array<{ name: string; mutate: (b: SafeBatch & Record<string, unknown>) => void; expected: RegExp }> = [
      { name: "version", mutate: (b) => { (b as { version: string }).version = "2.0"; }, expected: /^\$\.version/ },
      { name: "chainId as number", mutate: (b) => { (b as unknown as { chainId: number }).chainId = 31337; }, expected: /^\$\.chainId: expected string/ },
      { name: "no transactions", mutate: (b) => { b.transactions = []; }, expected: /^\$\.transactions: fewer than 1/ },
      { name: "bad to", mutate: (b) => { b.transactions[0]!.to = "0x1234"; }, expected: /^\$\.transactions\[0\]\.to/ },
      { name: "missing meta.txBuilderVersion", mutate: (b) => { delete (b.meta as Partial<SafeBatch["meta"]>).txBuilderVersion; }, expected: /txBuilderVersion: required/ },
      { name: "non-string input value", mutate: (b) => { (b.transactions[0]!.contractInputsValues as Record<string, unknown>).market = 1; }, expected: /contractInputsValues\.market: expected string/ },
      { name: "missing input value", mutate: (b) => { delete b.transactions[0]!.contractInputsValues.evidenceHash; b.meta.checksum = safeBatchChecksum(b); }, expected: /evidenceHash: missing/ },
      { name: "tampered after checksum", mutate: (b) => { b.transactions[0]!.value = "1"; }, expected: /checksum: does not match/ },
    ];
    for (const c of cases) {
      const b = structuredClone(good) as SafeBatch & Record<string, unknown>;
      c.mutate(b);
      const errors = validateSafeBatch(b);
      expect(errors.some((e) => c.expected.test(e)), `${c.name}: ${errors.join("; ")}`).to.equal(true);
    }
  });
});
