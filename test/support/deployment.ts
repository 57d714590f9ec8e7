// A fresh in-process chain with everything deployed, for contract tests. Each call creates a new
// EDR network so tests never share state.
import type { Contract, ContractRunner } from "ethers";
import { network } from "hardhat";
import { deployRiskkeeper, type DeployOptions, type Deployment } from "../../deploy/deploy.ts";

/** An ethers Contract whose `connect` keeps the dynamic method signatures (ethers types it as BaseContract). */
export type TestContract = Omit<Contract, "connect"> &
  Pick<Contract, "interface" | "target" | "runner" | "getAddress" | "getFunction" | "getEvent" | "filters" | "queryFilter" | "on" | "waitForDeployment"> & {
    connect(runner: ContractRunner | null): TestContract;
  };

export async function deployFixture(options: DeployOptions = {}) {
  const connection = await network.create();
  const { ethers } = connection;
  const deployment: Deployment = await deployRiskkeeper(ethers, options);
  const [deployer, keeper, guardian, alice, bob, outsider] = await ethers.getSigners();
  const at = async (name: string, address: string) => (await ethers.getContractAt(name, address)) as unknown as TestContract;
  return {
    connection,
    ethers,
    helpers: connection.networkHelpers,
    deployment,
    marketId: deployment.market.id,
    signers: { deployer, keeper, guardian, alice, bob, outsider },
    steward: await at("RiskParameterSteward", deployment.contracts.steward),
    upkeep: await at("StewardUpkeep", deployment.contracts.upkeep),
    governor: await at("RiskGovernor", deployment.contracts.governor),
    timelock: await at("RiskTimelock", deployment.contracts.timelock),
    votesToken: await at("RiskVotesToken", deployment.contracts.votesToken),
    feed: await at("ReplayAggregator", deployment.contracts.feed),
    collateral: await at("DemoUSD", deployment.contracts.collateral),
    protocol: await at("DemoMarginProtocol", deployment.contracts.protocol),
  };
}

export type Fixture = Awaited<ReturnType<typeof deployFixture>>;
