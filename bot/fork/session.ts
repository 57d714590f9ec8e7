// Fork sessions: a chain to validate on. Either the embedded in-process EDR chain with everything
// deployed fresh, or an EDR fork of any JSON-RPC node (an archive node, or a local `hardhat node`)
// pinned at a block, with the roles impersonated that validation needs.
import { rm } from "node:fs/promises";
import path from "node:path";
import type { Contract, Signer } from "ethers";
import { RiskkeeperError } from "../errors.ts";
import { maskRpcUrl } from "../url-mask.ts";
import type { Deployment } from "../../deploy/deploy.ts";
import { DemoProtocolAdapter, type ProtocolAdapter } from "./adapter.ts";
import { ReplayFeedDriver } from "./oracle.ts";
import { takeOverFeed, type FeedTakeover } from "./takeover.ts";
import { startRpcProxy, UPSTREAM_UNREACHABLE_HEADER, type RpcProxy, type RpcProxyOptions, type RpcStats } from "./rpc-proxy.ts";

type NetworkModule = typeof import("hardhat");
export type Connection = Awaited<ReturnType<NetworkModule["network"]["create"]>>;

export interface ForkSessionOptions {
  /** JSON-RPC URL to fork; absent = the embedded in-process chain with a fresh deployment. */
  forkUrl?: string;
  /**
   * Block to pin the fork at. Default: the remote head less `reorgDepth` blocks (32; 0 on dev chains
   * 31337/1337), so that what the fork reads, and the RPC cache keeps, cannot be reorganised away.
   */
  blockNumber?: number;
  reorgDepth?: number;
  /** Addresses of the deployed contracts; required with forkUrl. */
  deployment?: Deployment;
  /** Timeout of the pre-flight RPC check, ms. */
  rpcTimeoutMs?: number;
  /**
   * With forkUrl: the fork goes through a JSON-RPC proxy on 127.0.0.1 (rate cap, back-off on 429
   * and 5xx, disk cache of answers at the pinned block; see rpc-proxy.ts). Default on, with the
   * cache under the Hardhat cache directory (dev chains 31337/1337 cached on disk only when
   * `cacheDir` is given) and the remote chain frozen at the pinned block; false forks the URL directly.
   */
  rpcProxy?: false | Omit<RpcProxyOptions, "upstream" | "pinnedBlock">;
}

export interface ForkSession {
  connection: Connection;
  deployment: Deployment;
  /** Block the session started from (the fork block, or the block after deployment). */
  baseBlock: number;
  adapter: ProtocolAdapter;
  feedDriver: ReplayFeedDriver;
  /** How the protocol's feed was taken over (replay feed, proxy, or code replaced). */
  feedTakeover: FeedTakeover;
  steward: Contract;
  /** Signers with the roles validation acts as (impersonated on a fork). */
  governance: Signer;
  trader: Signer;
  liquidator: Signer;
  tokenOwner: Signer;
  /** With the RPC proxy: remote calls, cache hits and retries since the session opened. */
  rpcStats?: () => RpcStats;
  /** With the RPC proxy: its loopback URL (EDR forks through it). */
  rpcProxyUrl?: string;
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
  const unreachable = response.headers.get(UPSTREAM_UNREACHABLE_HEADER);
  if (unreachable) {
    throw new RiskkeeperError("RPC_FAILED", `cannot reach the fork RPC: ${unreachable}`, { input: maskUrl(url) });
  }
  const body = (await response.json().catch(() => undefined)) as { result?: string; error?: { message?: string } } | undefined;
  if (!response.ok || !body?.result) {
    throw new RiskkeeperError("RPC_FAILED", `eth_chainId failed (HTTP ${response.status}${body?.error?.message ? `: ${body.error.message}` : ""})`, { input: maskUrl(url) });
  }
  return BigInt(body.result);
}

/** Hides credentials and API keys in an RPC URL (path segments and query strings). */
export function maskUrl(url: string): string {
  return maskRpcUrl(url);
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
  let proxy: RpcProxy | undefined;
  if (options.forkUrl === undefined) {
    const { deployRiskkeeper } = await import("../../deploy/deploy.ts");
    connection = await network.create();
    deployment = await deployRiskkeeper(connection.ethers);
  } else {
    if (!options.deployment) {
      throw new RiskkeeperError("INPUT_INVALID", "a fork needs the deployment's addresses (--deployment FILE)", { input: "deployment" });
    }
    deployment = options.deployment;
    const forkUrl = options.forkUrl;
    const opened = await openFork(network, forkUrl, deployment, options);
    connection = opened.connection;
    proxy = opened.proxy;
  }
  const closeAll = async () => {
    try {
      await connection.close();
    } finally {
      if (proxy) await closeProxy(proxy);
    }
  };
  try {
    const session = await buildSession(connection, deployment, options);
    return { ...session, ...(proxy ? { rpcStats: () => proxy.stats(), rpcProxyUrl: proxy.url } : {}), close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** EDR caches fork answers per host and port: a proxy's port is reused by later proxies, so its entry goes with it. */
async function edrCacheDir(port: number): Promise<string> {
  const hre = (await import("hardhat")).default;
  return path.join(hre.config.paths.cache, "edr-fork-cache", "rpc_cache", "v2", `127.0.0.1_${port}`);
}

async function closeProxy(proxy: RpcProxy): Promise<void> {
  try {
    await proxy.close();
  } finally {
    await rm(await edrCacheDir(proxy.port), { recursive: true, force: true });
  }
}

async function openFork(network: NetworkModule["network"], forkUrl: string, deployment: Deployment, options: ForkSessionOptions): Promise<{ connection: Connection; proxy: RpcProxy | undefined }> {
  let proxy: RpcProxy | undefined;
  if (options.rpcProxy !== false) {
    const hre = (await import("hardhat")).default;
    const settings = options.rpcProxy ?? {};
    proxy = await startRpcProxy({
      ...settings,
      upstream: forkUrl,
      cacheDir: settings.cacheDir ?? path.join(hre.config.paths.cache, "fork-rpc-cache"),
      cacheDevChains: settings.cacheDevChains ?? settings.cacheDir !== undefined,
      freezeAtPinnedBlock: settings.freezeAtPinnedBlock ?? true,
    });
    await rm(await edrCacheDir(proxy.port), { recursive: true, force: true });
  }
  try {
    const via = proxy?.url ?? forkUrl;
    const chainId = await probeRpc(via, options.rpcTimeoutMs).catch((error: unknown) => {
      // Errors name the remote URL (masked), never the proxy's.
      if (error instanceof RiskkeeperError) throw new RiskkeeperError(error.code, error.message.replace(`${maskUrl(via)}: `, ""), { input: maskUrl(forkUrl), cause: error.cause });
      throw error;
    });
    if (chainId.toString() !== deployment.chainId) {
      throw new RiskkeeperError("CHAIN_MISMATCH", `the RPC serves chain ${chainId} but the deployment is on chain ${deployment.chainId}`, { input: maskUrl(forkUrl) });
    }
    // Always pinned: a fork at "latest" would make every answer uncacheable and the run unrepeatable.
    const depth = options.reorgDepth ?? (chainId === 31337n || chainId === 1337n ? 0 : 32);
    const head = options.blockNumber === undefined
      ? await latestBlock(via, options.rpcTimeoutMs).catch((error: unknown) => {
          // Named by the remote URL, never the proxy's.
          throw error instanceof RiskkeeperError ? new RiskkeeperError(error.code, error.message.replace(`${maskUrl(via)}: `, ""), { input: maskUrl(forkUrl), cause: error.cause }) : error;
        })
      : undefined;
    const blockNumber = options.blockNumber ?? Math.max(0, head! - depth);
    proxy?.setPinnedBlock(blockNumber);
    try {
      const connection = await network.create({ network: "hardhat", override: { forking: { url: via, blockNumber } } });
      return { connection, proxy };
    } catch (error) {
      throw new RiskkeeperError("RPC_FAILED", `cannot fork at block ${blockNumber}: ${(error as Error).message}`, { input: maskUrl(forkUrl), cause: error });
    }
  } catch (error) {
    if (proxy) await closeProxy(proxy);
    throw error;
  }
}

/**
 * Where a replay on a fork of `url` starts: the chain id, the block (given, or the latest) and its
 * timestamp. Errors name the URL masked.
 */
export async function forkPoint(url: string, blockNumber?: number, timeoutMs = 5_000): Promise<{ chainId: bigint; blockNumber: number; timestamp: number }> {
  const chainId = await probeRpc(url, timeoutMs);
  const number = blockNumber ?? (await latestBlock(url, timeoutMs));
  const block = (await rpcCall(url, "eth_getBlockByNumber", [`0x${number.toString(16)}`, false], timeoutMs)) as { timestamp?: string } | null;
  if (!block?.timestamp) throw new RiskkeeperError("RPC_FAILED", `block ${number} not found (the chain's head may be lower)`, { input: maskUrl(url) });
  return { chainId, blockNumber: number, timestamp: Number(BigInt(block.timestamp)) };
}

async function latestBlock(url: string, timeoutMs = 5_000): Promise<number> {
  return Number(BigInt((await rpcCall(url, "eth_blockNumber", [], timeoutMs)) as string));
}

/** One JSON-RPC call; anything but a result is RPC_FAILED naming the method and the URL masked. */
async function rpcCall(url: string, method: string, params: unknown[], timeoutMs: number): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new RiskkeeperError("RPC_FAILED", `cannot reach the fork RPC: ${(error as Error).message}`, { input: maskUrl(url), cause: error });
  }
  const body = (await response.json().catch(() => undefined)) as { result?: unknown } | undefined;
  if (body?.result === undefined) throw new RiskkeeperError("RPC_FAILED", `${method} failed (HTTP ${response.status})`, { input: maskUrl(url) });
  return body.result;
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
  const collateral = await at("DemoUSD", deployment.contracts.collateral);
  const feedAddress = await protocol.getFunction("feed")();
  if (feedAddress.toLowerCase() !== deployment.contracts.feed.toLowerCase()) {
    throw new RiskkeeperError("CHAIN_MISMATCH", `the protocol reads feed ${feedAddress}, not the deployment's ${deployment.contracts.feed}`, { input: "deployment.contracts.feed" });
  }
  // The protocol's feed, whatever it is (replay feed, proxy, plain aggregator), now serves rounds
  // from a ReplayAggregator this session owns.
  const takeover = await takeOverFeed(connection, feedAddress);
  const [deployer] = await ethers.getSigners();
  const governance = await impersonate(connection, deployment.roles.governance);
  const tokenOwner = await impersonate(connection, await collateral.getFunction("owner")());
  const signers = await ethers.getSigners();
  const trader = signers[8] ?? deployer;
  const liquidator = signers[9] ?? deployer;
  const adapter = new DemoProtocolAdapter({ protocol, collateral, steward, marketId: deployment.market.id });
  const provider = ethers.provider;
  const feedDriver = new ReplayFeedDriver(takeover.replay, {
    latestTimestamp: async () => BigInt((await provider.getBlock("latest"))!.timestamp),
    setNextBlockTimestamp: (timestamp) => connection.networkHelpers.time.setNextBlockTimestamp(timestamp),
  });
  return {
    connection,
    deployment,
    baseBlock,
    adapter,
    feedDriver,
    feedTakeover: takeover,
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
