// The validation gate against a real fork: a Hardhat node on 127.0.0.1 with the demo protocol and
// positions of its own, forked over HTTP at a pinned block.
import { expect } from "chai";
import type { Contract } from "ethers";
import { deployRiskkeeper, type Deployment } from "../../deploy/deploy.ts";
import { openForkSession, syntheticCrash, validateProposal, type ForkSession } from "../../bot/fork/index.ts";
import { isRiskkeeperError, type RiskkeeperErrorCode } from "../../bot/errors.ts";
import { startLocalNode, type LocalNode } from "../support/fork-node.ts";

const E18 = 10n ** 18n;

async function expectError(promise: Promise<unknown>, code: RiskkeeperErrorCode, pattern: RegExp) {
  try {
    await promise;
  } catch (error) {
    expect(isRiskkeeperError(error, code), String(error)).to.equal(true);
    expect((error as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a ${code} error`);
}

describe("fork validation gate on a fork of a local node (HTTP, 127.0.0.1)", function () {
  let node: LocalNode;
  let deployment: Deployment;
  let deployedAt: number;
  let forkBlock: number;
  let session: ForkSession | undefined;

  before(async function () {
    this.timeout(120_000);
    node = await startLocalNode();
    const { ethers } = node.connection;
    deployedAt = await ethers.provider.getBlockNumber();
    deployment = await deployRiskkeeper(ethers);
    const [deployer, , , trader] = await ethers.getSigners();
    const at = async (name: string, address: string) => (await ethers.getContractAt(name, address)) as unknown as Contract;
    const feed = await at("ReplayAggregator", deployment.contracts.feed);
    const token = await at("DemoUSD", deployment.contracts.collateral);
    const protocol = await at("DemoMarginProtocol", deployment.contracts.protocol);
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    await (await feed.getFunction("loadRounds")([1n], [3_000n * 10n ** 8n], [now], [now])).wait();
    await (await feed.getFunction("publishThrough")(1n)).wait();
    // The protocol's own positions: 12 longs at 8x to 10x leverage, opened on the node.
    await (await token.connect(deployer).getFunction("mint")(trader.address, 100_000n * E18)).wait();
    await (await token.connect(trader).getFunction("approve")(deployment.contracts.protocol, 100_000n * E18)).wait();
    for (let i = 0; i < 12; i++) {
      const notional = 10_000n * E18;
      await (await protocol.connect(trader).getFunction("openPosition")(true, notional / (8n + BigInt(i % 3)), notional)).wait();
    }
    forkBlock = await ethers.provider.getBlockNumber();
  });
  after(async () => {
    await session?.close();
    await node?.close();
  });

  it("judges the protocol's own positions: thin margins fail with bad debt, the current ones hold", async function () {
    this.timeout(120_000);
    session = await openForkSession({ forkUrl: node.url, blockNumber: forkBlock, deployment, rpcProxy: { maxRequestsPerSecond: 2_000 } });
    expect(session.baseBlock).to.equal(forkBlock);
    const crash = syntheticCrash({ seed: 5, steps: 48, crashFraction: 0.3, crashSteps: 15 });
    const options = { scenarios: [crash], population: { count: 0, seed: 1 }, path: "governance" as const };
    const thin = await validateProposal(session, [{ parameter: "initialMarginBps", value: 300n }, { parameter: "maintenanceMarginBps", value: 100n }], options);
    const [current] = thin.current.outcomes;
    const [proposed] = thin.proposed.outcomes;
    expect(current.positions).to.equal(12);
    expect(current.badDebt).to.equal(0n);
    expect(current.liquidations).to.equal(12);
    expect(proposed.badDebt > 0n).to.equal(true);
    expect(thin.verdict).to.equal("fail");
    expect(thin.oracle.takeover).to.equal("replay");
    expect(thin.rpc!.remoteCalls).to.be.greaterThan(0);
    // The fork never touched the node.
    expect(await node.connection.ethers.provider.getBlockNumber()).to.equal(forkBlock);
  });

  it("refuses an unreachable URL, a wrong chain and a block before the contracts existed", async function () {
    this.timeout(60_000);
    await expectError(openForkSession({ forkUrl: "http://127.0.0.1:9", deployment, rpcTimeoutMs: 2_000 }), "RPC_FAILED", /cannot reach the fork RPC/);
    await expectError(openForkSession({ forkUrl: node.url, deployment: { ...deployment, chainId: "1" } }), "CHAIN_MISMATCH", /serves chain 31337 but the deployment is on chain 1/);
    await expectError(openForkSession({ forkUrl: node.url, blockNumber: deployedAt, deployment }), "CHAIN_MISMATCH", /no code at .*before the contracts were deployed/);
    await expectError(openForkSession({ forkUrl: node.url }), "INPUT_INVALID", /deployment's addresses/);
  });
});
