// A fork validation against a real JSON-RPC node: deploy everything to a Hardhat node on
// 127.0.0.1 over HTTP, record block B, move the node on (a keeper update after the delay, a feed
// round, an opened position), then fork the node at B and check that the fork sees B's state while
// the node keeps the new one, and that a keeper update applied on the fork never reaches the node.
import { expect } from "chai";
import { deployRiskkeeper, type Deployment } from "../../deploy/deploy.ts";
import { forkAt, startLocalNode, type Connection, type LocalNode } from "../support/fork-node.ts";

const E18 = 10n ** 18n;
const HOUR = 3_600;
const IM = 0;
const MM = 1;
const EVIDENCE_NODE = "0x" + "11".repeat(32);
const EVIDENCE_FORK = "0x" + "22".repeat(32);

/** The contracts of a deployment, bound to one connection. */
async function contractsOn(connection: Connection, d: Deployment) {
  const at = (name: string, address: string) => connection.ethers.getContractAt(name, address);
  return {
    steward: await at("RiskParameterSteward", d.contracts.steward),
    feed: await at("ReplayAggregator", d.contracts.feed),
    protocol: await at("DemoMarginProtocol", d.contracts.protocol),
    collateral: await at("DemoUSD", d.contracts.collateral),
  };
}
type Contracts = Awaited<ReturnType<typeof contractsOn>>;

/** Everything the test compares between node and fork. */
async function stateOf(c: Contracts, marketId: string) {
  const [mm, mmUpdatedAt] = await c.steward.getParam(marketId, MM);
  const [roundId, answer] = await c.feed.latestRoundData();
  return {
    maintenanceMarginBps: mm as bigint,
    maintenanceUpdatedAt: mmUpdatedAt as bigint,
    initialMarginBps: (await c.steward.getParam(marketId, IM))[0] as bigint,
    latestRoundId: roundId as bigint,
    latestAnswer: answer as bigint,
    positions: (await c.protocol.positionCount()) as bigint,
    poolBalance: (await c.protocol.poolBalance()) as bigint,
  };
}

describe("fork of a local Hardhat node (HTTP on 127.0.0.1)", function () {
  let node: LocalNode | undefined;
  let fork: Connection | undefined;
  let deployment: Deployment;
  let onNode: Contracts;
  let blockB: number;
  let stateAtB: Awaited<ReturnType<typeof stateOf>>;

  before(async function () {
    node = await startLocalNode();
    const { ethers } = node.connection;
    expect(node.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await ethers.provider.getNetwork()).chainId).to.equal(31337n);

    deployment = await deployRiskkeeper(ethers);
    onNode = await contractsOn(node.connection, deployment);
    const [deployer] = await ethers.getSigners();
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    await (await onNode.feed.loadRounds([1n], [2_000n * 10n ** 8n], [now], [now])).wait();
    await (await onNode.feed.publishThrough(1)).wait();
    expect(await onNode.feed.owner()).to.equal(deployer.address);

    blockB = await ethers.provider.getBlockNumber();
    stateAtB = await stateOf(onNode, deployment.market.id);
    expect(stateAtB).to.deep.include({ maintenanceMarginBps: 500n, initialMarginBps: 1_000n, latestRoundId: 1n, positions: 0n });

    // The node moves on past B.
    const { keeper, alice } = await namedSigners(node.connection);
    await node.connection.networkHelpers.time.increase(HOUR);
    await (await (onNode.steward.connect(keeper) as Contracts["steward"]).updateParams(deployment.market.id, [[MM, 600n]], EVIDENCE_NODE)).wait();
    const later = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    await (await onNode.feed.loadRounds([2n], [1_950n * 10n ** 8n], [later], [later])).wait();
    await (await onNode.feed.publishThrough(2)).wait();
    await (await onNode.collateral.mint(alice.address, 1_000n * E18)).wait();
    await (await (onNode.collateral.connect(alice) as Contracts["collateral"]).approve(deployment.contracts.protocol, 1_000n * E18)).wait();
    await (await (onNode.protocol.connect(alice) as Contracts["protocol"]).openPosition(true, 1_000n * E18, 5_000n * E18)).wait();
    expect(await ethers.provider.getBlockNumber()).to.be.greaterThan(blockB);

    fork = await forkAt(node.url, blockB);
  });

  after(async function () {
    try {
      await fork?.close();
    } finally {
      await node?.close();
    }
  });

  async function namedSigners(connection: Connection) {
    const [deployer, keeper, , alice] = await connection.ethers.getSigners();
    return { deployer, keeper, alice };
  }

  it("the node holds the new state", async () => {
    const now = await stateOf(onNode, deployment.market.id);
    expect(now).to.deep.include({ maintenanceMarginBps: 600n, initialMarginBps: 1_000n, latestRoundId: 2n, latestAnswer: 1_950n * 10n ** 8n, positions: 1n });
    expect(now.maintenanceUpdatedAt).to.be.greaterThan(stateAtB.maintenanceUpdatedAt);
  });

  it("a fork pinned at block B reads B's state: the old parameter, the old round, no position", async () => {
    expect(await fork!.ethers.provider.getBlockNumber()).to.equal(blockB);
    const [forkHead, nodeB] = [await fork!.ethers.provider.getBlock(blockB), await node!.connection.ethers.provider.getBlock(blockB)];
    expect(forkHead!.hash).to.equal(nodeB!.hash);
    const onFork = await contractsOn(fork!, deployment);
    expect(await stateOf(onFork, deployment.market.id)).to.deep.equal(stateAtB);
    await expect(onFork.protocol.getPosition(0)).to.be.revertedWithCustomError(onFork.protocol, "ProtocolPositionNotOpen").withArgs(0);
  });

  it("a keeper update on the fork changes the fork only; the node does not move", async () => {
    const onFork = await contractsOn(fork!, deployment);
    const nodeBlock = await node!.connection.ethers.provider.getBlockNumber();
    const nodeState = await stateOf(onNode, deployment.market.id);

    // Same roles on the fork: the keeper of the node is the keeper of the fork.
    const { keeper } = await namedSigners(fork!);
    await fork!.networkHelpers.time.increase(HOUR);
    const asKeeper = onFork.steward.connect(keeper) as Contracts["steward"];
    // The fork judges bounds as the chain would: 500 -> 700 is over the 150 bps step.
    await expect(asKeeper.updateParams(deployment.market.id, [[MM, 700n]], EVIDENCE_FORK))
      .to.be.revertedWithCustomError(onFork.steward, "StewardStepTooLarge").withArgs(deployment.market.id, MM, 500n, 700n, 150n);
    await expect(asKeeper.updateParams(deployment.market.id, [[MM, 650n]], EVIDENCE_FORK))
      .to.emit(onFork.steward, "ParamUpdated").withArgs(deployment.market.id, MM, 500n, 650n, EVIDENCE_FORK, 0);
    expect((await onFork.steward.getParam(deployment.market.id, MM))[0]).to.equal(650n);
    expect(await fork!.ethers.provider.getBlockNumber()).to.be.greaterThan(blockB);

    expect(await node!.connection.ethers.provider.getBlockNumber()).to.equal(nodeBlock);
    expect(await stateOf(onNode, deployment.market.id)).to.deep.equal(nodeState);
    expect(nodeState.maintenanceMarginBps).to.equal(600n);
  });
});
