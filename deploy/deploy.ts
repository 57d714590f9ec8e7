// Deploys the whole on-chain side (governance, steward, upkeep, replay feed, demo protocol) to
// the chain behind a Hardhat network connection, wires the roles, and returns (and optionally
// writes) the addresses the bot reads.
//
//   node deploy/deploy.ts                     in-process chain (prints, writes nothing unless --out)
//   node deploy/deploy.ts --url URL [--out F] a local node or any network by URL; accounts are the
//                                             node's own, or DEPLOYER_PRIVATE_KEY
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Signer } from "ethers";
import { DEFAULT_MARKET, PARAM, PARAM_NAMES, boundsTuple, marketId, type MarketConfig } from "./market-config.ts";

/** The ethers object Hardhat's ethers plugin puts on a network connection. */
export type HardhatEthers = Awaited<ReturnType<typeof import("hardhat")["network"]["create"]>>["ethers"];

export interface DeployOptions {
  market?: MarketConfig;
  /** TimelockController delay. */
  timelockDelaySeconds?: bigint;
  votingDelayBlocks?: number;
  votingPeriodBlocks?: number;
  quorumPercent?: number;
  queueDelaySeconds?: bigint;
  executionWindowSeconds?: bigint;
  /** Feed decimals and description for the ReplayAggregator. */
  feedDecimals?: number;
  feedDescription?: string;
  /** Oldest oracle answer the demo protocol accepts. */
  maxOracleAgeSeconds?: bigint;
  /** dUSD minted into the protocol's liquidity pool. */
  poolLiquidity?: bigint;
  signers?: { deployer: Signer; keeper: Signer; guardian: Signer };
}

export interface Deployment {
  chainId: string;
  blockNumber: number;
  market: { name: string; id: string };
  contracts: {
    votesToken: string;
    timelock: string;
    governor: string;
    steward: string;
    upkeep: string;
    feed: string;
    collateral: string;
    protocol: string;
  };
  roles: {
    governance: string;
    keeper: string;
    guardian: string;
    automationExecutor: string;
    feedOwner: string;
    deployer: string;
  };
}

export async function deployRiskkeeper(ethers: HardhatEthers, options: DeployOptions = {}): Promise<Deployment> {
  const market = options.market ?? DEFAULT_MARKET;
  const [defaultDeployer, defaultKeeper, defaultGuardian] = await ethers.getSigners();
  const deployer = options.signers?.deployer ?? defaultDeployer;
  const keeper = options.signers?.keeper ?? defaultKeeper ?? defaultDeployer;
  const guardian = options.signers?.guardian ?? defaultGuardian ?? defaultDeployer;
  const [deployerAddress, keeperAddress, guardianAddress] = await Promise.all(
    [deployer, keeper, guardian].map((s) => s.getAddress()),
  );

  const votesToken = await ethers.deployContract("RiskVotesToken", [deployerAddress, 1_000_000n * 10n ** 18n], deployer);
  await (await votesToken.getFunction("delegate")(deployerAddress)).wait();

  const timelock = await ethers.deployContract(
    "RiskTimelock",
    [options.timelockDelaySeconds ?? 3_600n, [], [ethers.ZeroAddress], deployerAddress],
    deployer,
  );
  const governor = await ethers.deployContract(
    "RiskGovernor",
    [
      await votesToken.getAddress(),
      await timelock.getAddress(),
      options.votingDelayBlocks ?? 1,
      options.votingPeriodBlocks ?? 50,
      options.quorumPercent ?? 4,
    ],
    deployer,
  );
  const governorAddress = await governor.getAddress();
  const timelockAddress = await timelock.getAddress();
  const tl = timelock.getFunction.bind(timelock);
  await (await tl("grantRole")(await tl("PROPOSER_ROLE")(), governorAddress)).wait();
  await (await tl("grantRole")(await tl("CANCELLER_ROLE")(), governorAddress)).wait();

  // The deployer administers the steward only long enough to create the first market.
  const steward = await ethers.deployContract(
    "RiskParameterSteward",
    [deployerAddress, guardianAddress, options.queueDelaySeconds ?? 600n, options.executionWindowSeconds ?? 86_400n],
    deployer,
  );
  const stewardAddress = await steward.getAddress();
  const st = steward.getFunction.bind(steward);
  const id = marketId(market.name);
  await (await st("createMarket")(id)).wait();
  for (const name of PARAM_NAMES) {
    await (await st("setBounds")(id, PARAM[name], boundsTuple(market.bounds[name]))).wait();
  }
  const initial = PARAM_NAMES.map((name) => [PARAM[name], market.initialValues[name]]);
  await (await st("setParams")(id, initial, ethers.id(`riskkeeper:genesis:${market.name}`))).wait();

  const upkeep = await ethers.deployContract("StewardUpkeep", [stewardAddress], deployer);
  const upkeepAddress = await upkeep.getAddress();
  await (await st("grantRole")(await st("KEEPER_ROLE")(), keeperAddress)).wait();
  await (await st("grantRole")(await st("EXECUTOR_ROLE")(), upkeepAddress)).wait();
  const adminRole = await st("DEFAULT_ADMIN_ROLE")();
  await (await st("grantRole")(adminRole, timelockAddress)).wait();
  await (await st("renounceRole")(adminRole, deployerAddress)).wait();
  await (await tl("renounceRole")(await tl("DEFAULT_ADMIN_ROLE")(), deployerAddress)).wait();

  const feed = await ethers.deployContract(
    "ReplayAggregator",
    [options.feedDecimals ?? 8, options.feedDescription ?? `${market.name} (replay)`, deployerAddress],
    deployer,
  );
  const collateral = await ethers.deployContract("DemoUSD", [deployerAddress], deployer);
  const protocol = await ethers.deployContract(
    "DemoMarginProtocol",
    [stewardAddress, id, await feed.getAddress(), await collateral.getAddress(), options.maxOracleAgeSeconds ?? 3_900n],
    deployer,
  );
  const liquidity = options.poolLiquidity ?? 10_000_000n * 10n ** 18n;
  const protocolAddress = await protocol.getAddress();
  await (await collateral.getFunction("mint")(deployerAddress, liquidity)).wait();
  await (await collateral.getFunction("approve")(protocolAddress, liquidity)).wait();
  await (await protocol.getFunction("fundPool")(liquidity)).wait();

  const network = await ethers.provider.getNetwork();
  return {
    chainId: network.chainId.toString(),
    blockNumber: await ethers.provider.getBlockNumber(),
    market: { name: market.name, id },
    contracts: {
      votesToken: await votesToken.getAddress(),
      timelock: timelockAddress,
      governor: governorAddress,
      steward: stewardAddress,
      upkeep: upkeepAddress,
      feed: await feed.getAddress(),
      collateral: await collateral.getAddress(),
      protocol: protocolAddress,
    },
    roles: {
      governance: timelockAddress,
      keeper: keeperAddress,
      guardian: guardianAddress,
      automationExecutor: upkeepAddress,
      feedOwner: deployerAddress,
      deployer: deployerAddress,
    },
  };
}

/** Writes the deployment atomically (temp file + rename) so the bot never reads half a file. */
export async function writeDeployment(file: string, deployment: Deployment): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(deployment, null, 2)}\n`);
  await rename(temp, file);
}

export function formatDeployment(d: Deployment): string {
  const rows = (obj: Record<string, string>) =>
    Object.entries(obj).map(([k, v]) => `  ${k.padEnd(20)} ${v}`).join("\n");
  return [
    `chain ${d.chainId} at block ${d.blockNumber}; market ${d.market.name} (${d.market.id})`,
    "contracts:",
    rows(d.contracts),
    "roles:",
    rows(d.roles),
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { url: { type: "string" }, out: { type: "string" } },
    allowPositionals: false,
  });
  const { network } = await import("hardhat");
  const connection = values.url
    ? await network.create({
        network: "localhost",
        override: {
          url: values.url,
          ...(process.env.DEPLOYER_PRIVATE_KEY ? { accounts: [process.env.DEPLOYER_PRIVATE_KEY] } : {}),
        },
      })
    : await network.create();
  const deployment = await deployRiskkeeper(connection.ethers);
  console.log(formatDeployment(deployment));
  const out = values.out ?? (values.url ? path.join("deployments", `${deployment.chainId}.json`) : undefined);
  if (out) {
    await writeDeployment(out, deployment);
    console.log(`addresses written to ${out}`);
  }
  await connection.close();
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
