// Oracle takeover on a fork of a local node (HTTP, 127.0.0.1), for protocols whose feed is not a
// ReplayAggregator: one reads a FeedProxy (the proxy's owner, impersonated on the fork, points it
// at a fresh replay feed: a new phase), one reads a plain aggregator with no proxy (its code is
// replaced on the fork). Both protocols are DemoMarginProtocol deployed by the test, with positions
// of their own opened on the node; the node itself never changes.
import { expect } from "chai";
import type { Contract } from "ethers";
import { deployRiskkeeper, type Deployment } from "../../deploy/deploy.ts";
import { openForkSession, replayStorageLayout, syntheticCrash, validateProposal, type ForkSession, type ValidationOptions } from "../../bot/fork/index.ts";
import { startLocalNode, type LocalNode } from "../support/fork-node.ts";

const E18 = 10n ** 18n;
const PRICE = 3_000n * 10n ** 8n;
const PHASE = 1n << 64n;
const FAST = { maxRequestsPerSecond: 2_000 };
const crash = syntheticCrash({ seed: 5, steps: 48, crashFraction: 0.3, crashSteps: 15 });
const options: ValidationOptions = { scenarios: [crash], population: { count: 8, seed: 2 }, path: "governance" };
const thin = [{ parameter: "initialMarginBps" as const, value: 300n }, { parameter: "maintenanceMarginBps" as const, value: 100n }];

describe("oracle takeover on a fork: a FeedProxy and a plain aggregator", function () {
  let node: LocalNode;
  let base: Deployment;
  let viaProxy: Deployment;
  let viaPlain: Deployment;
  let proxy: Contract;
  let proxied: Contract; // the aggregator behind the proxy on the node
  let plain: Contract;
  let forkBlock: number;
  const sessions: ForkSession[] = [];

  before(async function () {
    node = await startLocalNode();
    const { ethers } = node.connection;
    base = await deployRiskkeeper(ethers);
    const [deployer, , , trader, , proxyOwner] = await ethers.getSigners();
    const deploy = async (name: string, args: unknown[]) => (await ethers.deployContract(name, args, deployer)) as unknown as Contract;
    proxied = await deploy("PlainAggregator", [8, "ETH / USD"]);
    plain = await deploy("PlainAggregator", [8, "ETH / USD direct"]);
    await (await proxied.getFunction("setAnswer")(PRICE)).wait();
    await (await plain.getFunction("setAnswer")(PRICE)).wait();
    proxy = await deploy("FeedProxy", [await proxied.getAddress(), proxyOwner.address]);
    const token = (await ethers.getContractAt("DemoUSD", base.contracts.collateral)) as unknown as Contract;
    const protocolOn = async (feed: string): Promise<Deployment> => {
      const protocol = await deploy("DemoMarginProtocol", [base.contracts.steward, base.market.id, feed, base.contracts.collateral, 3_900n]);
      const address = await protocol.getAddress();
      // Pool liquidity, and three positions of the protocol's own at 8x.
      await (await token.connect(deployer).getFunction("mint")(deployer.address, 1_000_000n * E18)).wait();
      await (await token.connect(deployer).getFunction("approve")(address, 1_000_000n * E18)).wait();
      await (await protocol.connect(deployer).getFunction("fundPool")(1_000_000n * E18)).wait();
      await (await token.connect(deployer).getFunction("mint")(trader.address, 10_000n * E18)).wait();
      await (await token.connect(trader).getFunction("approve")(address, 10_000n * E18)).wait();
      for (let i = 0; i < 3; i++) await (await protocol.connect(trader).getFunction("openPosition")(true, 1_250n * E18, 10_000n * E18)).wait();
      return { ...base, contracts: { ...base.contracts, protocol: address, feed } };
    };
    viaProxy = await protocolOn(await proxy.getAddress());
    viaPlain = await protocolOn(await plain.getAddress());
    forkBlock = await ethers.provider.getBlockNumber();
  });

  after(async function () {
    for (const s of sessions) await s.close().catch(() => undefined);
    await node?.close();
  });

  it("FeedProxy: round ids carry the phase; only its owner moves it, and only to the proposed aggregator", async () => {
    const [roundId, answer, , , answeredInRound] = await proxy.getFunction("latestRoundData")();
    expect([roundId, answer, answeredInRound]).to.deep.equal([PHASE | 1n, PRICE, PHASE | 1n]);
    expect((await proxy.getFunction("getRoundData")(PHASE | 1n))[1]).to.equal(PRICE);
    expect(await proxy.getFunction("phaseId")()).to.equal(1n);
    expect(await proxy.getFunction("phaseAggregators")(1)).to.equal(await proxied.getAddress());
    expect(await proxy.getFunction("decimals")()).to.equal(8n);
    expect(await proxy.getFunction("description")()).to.equal("ETH / USD");
    await expect(proxy.getFunction("getRoundData")((2n << 64n) | 1n)).to.be.revertedWithCustomError(proxy, "FeedProxyUnknownPhase").withArgs((2n << 64n) | 1n, 2);
    const [deployer, , , , , owner] = await node.connection.ethers.getSigners();
    await expect((proxy.connect(deployer) as Contract).getFunction("proposeAggregator")(await plain.getAddress()))
      .to.be.revertedWithCustomError(proxy, "OwnableUnauthorizedAccount").withArgs(deployer.address);
    await expect((proxy.connect(owner) as Contract).getFunction("confirmAggregator")(await plain.getAddress()))
      .to.be.revertedWithCustomError(proxy, "FeedProxyNotProposed").withArgs(await plain.getAddress(), "0x0000000000000000000000000000000000000000");
    expect(await node.connection.ethers.provider.getBlockNumber()).to.equal(forkBlock);
  });

  it("a protocol behind a FeedProxy: the impersonated owner confirms a replay feed as phase 2 and the gate runs", async function () {
    const session = await openForkSession({ forkUrl: node.url, blockNumber: forkBlock, deployment: viaProxy, rpcProxy: FAST });
    sessions.push(session);
    const takeover = session.feedTakeover;
    expect(takeover.kind).to.equal("proxy");
    expect(takeover.phaseId).to.equal(2);
    expect(takeover.previousAggregator).to.equal(await proxied.getAddress());
    expect(takeover.replayAddress).to.not.equal(viaProxy.contracts.feed);
    const report = await validateProposal(session, thin, options);
    const [current] = report.current.outcomes;
    expect(report.oracle.takeover).to.equal("proxy");
    expect(current.positions).to.equal(3 + 8);
    expect(current.liquidations).to.be.greaterThan(0);
    expect(current.badDebt).to.equal(0n);
    expect(report.proposed.outcomes[0].badDebt > 0n).to.equal(true);
    expect(report.verdict).to.equal("fail");
    // On the fork the protocol reads the replay feed through the proxy, under the new phase.
    const onFork = (await session.connection.ethers.getContractAt("FeedProxy", viaProxy.contracts.feed)) as unknown as Contract;
    expect(await onFork.getFunction("aggregator")()).to.equal(takeover.replayAddress);
    expect(await onFork.getFunction("phaseAggregators")(1)).to.equal(await proxied.getAddress());
    // The node's proxy never moved.
    expect(await proxy.getFunction("phaseId")()).to.equal(1n);
    expect((await proxy.getFunction("latestRoundData")())[0]).to.equal(PHASE | 1n);
  });

  it("proxy round ids on the fork are phase 2's: phaseId << 64 | the replay feed's round id", async function () {
    const session = sessions[0];
    const onFork = (await session.connection.ethers.getContractAt("FeedProxy", viaProxy.contracts.feed)) as unknown as Contract;
    const { firstIndex, startTimestamp } = await session.feedDriver.load({ name: "one", kind: "recorded", worstMove: 0, rounds: [{ t: 1, price: 2_500 }] });
    await session.feedDriver.publish(firstIndex, startTimestamp);
    const replayRoundId = await session.feedTakeover.replay.getFunction("lastLoadedRoundId")();
    const [roundId, answer] = await onFork.getFunction("latestRoundData")();
    expect(roundId).to.equal((2n << 64n) | replayRoundId);
    expect(answer).to.equal(2_500n * 10n ** 8n);
    expect((await onFork.getFunction("getRoundData")(roundId))[1]).to.equal(answer);
    // Phase 1's rounds are still served by the aggregator that was replaced.
    expect((await onFork.getFunction("getRoundData")(PHASE | 1n))[1]).to.equal(PRICE);
  });

  it("a protocol reading a plain aggregator: its code and storage layout are replaced by ReplayAggregator's", async function () {
    const layout = await replayStorageLayout();
    expect(layout.find((s) => s.label === "_owner")).to.deep.include({ slot: 0n, type: "t_address" });
    const session = await openForkSession({ forkUrl: node.url, blockNumber: forkBlock, deployment: viaPlain, rpcProxy: FAST });
    sessions.push(session);
    expect(session.feedTakeover.kind).to.equal("code-replaced");
    expect(session.feedTakeover.replayAddress).to.equal(viaPlain.contracts.feed);
    expect(await session.feedTakeover.replay.getFunction("owner")()).to.equal(await session.feedTakeover.owner.getAddress());
    const report = await validateProposal(session, thin, options);
    expect(report.oracle.takeover).to.equal("code-replaced");
    expect(report.current.outcomes[0].positions).to.equal(3 + 8);
    expect(report.current.outcomes[0].liquidations).to.be.greaterThan(0);
    expect(report.current.outcomes[0].badDebt).to.equal(0n);
    expect(report.verdict).to.equal("fail");
    // The node's aggregator keeps its own code and answer.
    expect((await plain.getFunction("latestRoundData")())[1]).to.equal(PRICE);
    expect(await plain.getFunction("version")()).to.equal(1n);
  });
});
