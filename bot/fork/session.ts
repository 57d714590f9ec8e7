// Fork sessions: a chain to validate on. Either the embedded in-process EDR chain with everything
// deployed fresh, or an EDR fork of any JSON-RPC node (an archive node, or a local `hardhat node`)
// pinned at a block, with the roles impersonated that validation needs.
import type { Contract, Signer } from "ethers";
import { RiskkeeperError } from "../errors.ts";
import type { Deployment } from "../../deploy/deploy.ts";
import { DemoProtocolAdapter, type ProtocolAdapter } from "./adapter.ts";
import { ReplayFeedDriver } from "./oracle.ts";

type NetworkModule = typeof import("hardhat");
export type Connection = Awaited<ReturnType<NetworkModule["network"]["create"]>>;

export interface ForkSessionOptions {
  /** JSON-RPC URL to fork; absent = the embedded in-process chain with a fresh deployment. */
  forkUrl?: string;
  /** Block to pin the fork at; default latest. */
  blockNumber?: number;
  /** Addresses of the deployed contracts; required with forkUrl. */
  deployment?: Deployment;
  /** Timeout of the pre-flight RPC check, ms. */
  rpcTimeoutMs?: number;
}

export interface ForkSession {
  connection: Connection;
  deployment: Deployment;
  /** Block the session started from (the fork block, or the block after deployment). */
  baseBlock: number;
  adapter: ProtocolAdapter;
  feedDriver: ReplayFeedDriver;
  steward: Contract;
  /** Signers with the roles validation acts as (impersonated on a fork). */
  governance: Signer;
  trader: Signer;
  liquidator: Signer;
  tokenOwner: Signer;
  snapshot(): Promise<string>;
  revert(snapshotId: string): Promise<void>;
  close(): Promise<void>;
}

/** Asks the RPC for its chain id before Hardhat forks it, so failures name the URL and the cause. */
export async function probeRpc(url: string, timeoutMs = 5_000): Promise<bigint> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new RiskkeeperError("RPC_FAILED", `cannot reach the fork RPC: ${(error as Error).message}`, { input: maskUrl(url), cause: error });
  }
  const body = (await response.json().catch(() => undefined)) as { result?: string; error?: { message?: string } } | undefined;
  if (!response.ok || !body?.result) {
    throw new RiskkeeperError("RPC_FAILED", `eth_chainId failed (HTTP ${response.status}${body?.error?.message ? `: ${body.error.message}` : ""})`, { input: maskUrl(url) });
  }
  return BigInt(body.result);
}

/** Hides credentials and API keys in an RPC URL (path segments and query strings). */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    const masked = `${u.protocol}//${u.username ? "***@" : ""}${u.host}`;
    const path = u.pathname.split("/").map((seg) => (seg.length >= 16 ? "***" : seg)).join("/");
    return `${masked}${path === "/" ? "" : path}${u.search ? "?***" : ""}`;
  } catch {
    return "<invalid url>";
  }
}

async function impersonate(connection: Connection, address: string): Promise<Signer> {
  await connection.networkHelpers.impersonateAccount(address);
  await connection.networkHelpers.setBalance(address, 10n ** 21n);
  return connection.ethers.getSigner(address);
}

export async function openForkSession(options: ForkSessionOptions = {}): Promise<ForkSession> {
  const { network } = await import("hardhat");
  let connection: Connection;
  let deployment: Deployment;
  if (options.forkUrl === undefined) {
    const { deployRiskkeeper } = await import("../../deploy/deploy.ts");
    connection = await network.create();
    deployment = await deployRiskkeeper(connection.ethers);
  } else {
    if (!options.deployment) {
      throw new RiskkeeperError("INPUT_INVALID", "a fork needs the deployment's addresses (--deployment FILE)", { input: "deployment" });
    }
    deployment = options.deployment;
    const chainId = await probeRpc(options.forkUrl, options.rpcTimeoutMs);
    if (chainId.toString() !== deployment.chainId) {
      throw new RiskkeeperError("CHAIN_MISMATCH", `the RPC serves chain ${chainId} but the deployment is on chain ${deployment.chainId}`, { input: maskUrl(options.forkUrl) });
    }
    const forking = { url: options.forkUrl, ...(options.blockNumber !== undefined ? { blockNumber: options.blockNumber } : {}) };
    try {
      connection = await network.create({ network: "hardhat", override: { forking } });
    } catch (error) {
      throw new RiskkeeperError("RPC_FAILED", `cannot fork at block ${options.blockNumber ?? "latest"}: ${(error as Error).message}`, { input: maskUrl(options.forkUrl), cause: error });
    }
  }
  try {
    return await buildSession(connection, deployment, options);
  } catch (error) {
    await connection.close();
    throw error;
  }
}

async function buildSession(connection: Connection, deployment: Deployment, options: ForkSessionOptions): Promise<ForkSession> {
  const { ethers } = connection;
  const baseBlock = await ethers.provider.getBlockNumber();
  for (const [name, address] of Object.entries(deployment.contracts)) {
    if ((await ethers.provider.getCode(address)) === "0x") {
      throw new RiskkeeperError(
        "CHAIN_MISMATCH",
        `no code at ${name} ${address} at block ${baseBlock}${options.blockNumber !== undefined ? " (a block before the contracts were deployed?)" : ""}`,
        { input: `deployment.contracts.${name}` },
      );
    }
  }
  const at = async (name: string, address: string) => (await ethers.getContractAt(name, address)) as unknown as Contract;
  const steward = await at("RiskParameterSteward", deployment.contracts.steward);
  const protocol = await at("DemoMarginProtocol", deployment.contracts.protocol);
  const feed = await at("ReplayAggregator", deployment.contracts.feed);
  const collateral = await at("DemoUSD", deployment.contracts.collateral);
  const feedAddress = await protocol.getFunction("feed")();
  if (feedAddress.toLowerCase() !== deployment.contracts.feed.toLowerCase()) {
    throw new RiskkeeperError("CHAIN_MISMATCH", `the protocol reads feed ${feedAddress}, not the deployment's ${deployment.contracts.feed}`, { input: "deployment.contracts.feed" });
  }
  try {
    await feed.getFunction("lastLoadedRoundId")();
  } catch (error) {
    throw new RiskkeeperError(
      "FEED_FAILED",
      "the protocol's feed is not a ReplayAggregator; pointing an AggregatorProxy at one (proposeAggregator/confirmAggregator by its owner) is not implemented yet",
      { input: feedAddress, cause: error },
    );
  }
  const [deployer] = await ethers.getSigners();
  const governance = await impersonate(connection, deployment.roles.governance);
  const feedOwner = await impersonate(connection, await feed.getFunction("owner")());
  const tokenOwner = await impersonate(connection, await collateral.getFunction("owner")());
  const signers = await ethers.getSigners();
  const trader = signers[8] ?? deployer;
  const liquidator = signers[9] ?? deployer;
  const adapter = new DemoProtocolAdapter({ protocol, collateral, steward, marketId: deployment.market.id });
  const provider = ethers.provider;
  const feedDriver = new ReplayFeedDriver(feed.connect(feedOwner) as Contract, {
    latestTimestamp: async () => BigInt((await provider.getBlock("latest"))!.timestamp),
    setNextBlockTimestamp: (timestamp) => connection.networkHelpers.time.setNextBlockTimestamp(timestamp),
  });
  return {
    connection,
    deployment,
    baseBlock,
    adapter,
    feedDriver,
    steward,
    governance,
    trader,
    liquidator,
    tokenOwner,
    snapshot: () => provider.send("evm_snapshot", []),
    async revert(id) {
      const ok = await provider.send("evm_revert", [id]);
      if (ok !== true) throw new RiskkeeperError("RPC_FAILED", `evm_revert(${id}) failed`, { input: "fork session" });
    },
    close: () => connection.close(),
  };
}
