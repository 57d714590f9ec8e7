// Oracle takeover on a fork: whatever Chainlink-style feed the protocol reads, make it serve the
// scenario's rounds from a ReplayAggregator that the session controls. Three paths:
//
//   replay         the feed already is a ReplayAggregator: its owner is impersonated;
//   proxy          the feed is an AggregatorProxy (FeedProxy, or Chainlink's own): its owner is
//                  impersonated and points it at a fresh ReplayAggregator with the same decimals
//                  (proposeAggregator + confirmAggregator), so the proxy's round ids carry the new
//                  phase (phaseId << 64 | aggregatorRoundId);
//   code-replaced  any other AggregatorV3 contract: its code is replaced on the fork with the
//                  runtime code of a fresh ReplayAggregator with the same decimals (immutables
//                  included), and every slot of ReplayAggregator's storage layout — read from the
//                  compiler's storage layout of the very build that produced the artifact — is set
//                  to the fresh instance's value, the Ownable owner slot to an impersonated owner.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Contract, type InterfaceAbi, type Signer } from "ethers";
import { RiskkeeperError } from "../errors.ts";

type NetworkModule = typeof import("hardhat");
type Connection = Awaited<ReturnType<NetworkModule["network"]["create"]>>;

export type FeedTakeoverKind = "replay" | "proxy" | "code-replaced";

export interface FeedTakeover {
  kind: FeedTakeoverKind;
  /** The address the protocol reads (unchanged by every path). */
  feed: string;
  /** The ReplayAggregator that now serves the protocol's prices (the feed itself, except behind a proxy). */
  replayAddress: string;
  /** The ReplayAggregator, connected to its (impersonated) owner. */
  replay: Contract;
  owner: Signer;
  decimals: number;
  /** Proxy path: the phase the replay feed serves under, and the aggregator it replaced. */
  phaseId?: number;
  previousAggregator?: string;
  /** One line for the report. */
  summary: string;
}

export interface StorageSlot {
  label: string;
  slot: bigint;
  offset: number;
  type: string;
  /** Slots the variable occupies in place (more than one for static arrays and structs). */
  slots: number;
}

/** The address that owns a code-replaced feed on the fork (no key exists for it: impersonated only). */
export const TAKEOVER_OWNER = "0x" + "7a6b".repeat(10);

const PROXY_ABI = [
  "function phaseId() view returns (uint16)",
  "function aggregator() view returns (address)",
  "function owner() view returns (address)",
  "function proposeAggregator(address)",
  "function confirmAggregator(address)",
];
const AGGREGATOR_ABI = [
  "function decimals() view returns (uint8)",
  "function description() view returns (string)",
  "function latestRoundData() view returns (uint80, int256, uint256, uint256, uint80)",
];

async function succeeds(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch {
    return false;
  }
}

async function impersonate(connection: Connection, address: string): Promise<Signer> {
  await connection.networkHelpers.impersonateAccount(address);
  await connection.networkHelpers.setBalance(address, 10n ** 21n);
  return connection.ethers.getSigner(address);
}

/** A description short enough to sit in one storage slot (so the layout's slot holds it whole). */
function shortDescription(description: string): string {
  const text = `${description} (replay)`;
  return Buffer.byteLength(text) <= 31 ? text : "replay";
}

/**
 * Takes over the feed at `feedAddress` on the fork behind `connection`; see the module comment for
 * the three paths. Fails with FEED_FAILED when the address holds no AggregatorV3 contract.
 */
export async function takeOverFeed(connection: Connection, feedAddress: string): Promise<FeedTakeover> {
  const { ethers } = connection;
  const replayAbi = (await import("hardhat")).artifacts.readArtifact("ReplayAggregator");
  const abi = (await replayAbi).abi as unknown as InterfaceAbi;
  const asReplay = new Contract(feedAddress, abi, ethers.provider);
  if ((await ethers.provider.getCode(feedAddress)) === "0x") {
    throw new RiskkeeperError("FEED_FAILED", "no contract at the protocol's feed address", { input: feedAddress });
  }

  if (await succeeds(() => asReplay.getFunction("lastLoadedRoundId")())) {
    const owner = await impersonate(connection, await asReplay.getFunction("owner")());
    const decimals = Number(await asReplay.getFunction("decimals")());
    return {
      kind: "replay", feed: feedAddress, replayAddress: feedAddress, replay: asReplay.connect(owner) as Contract, owner, decimals,
      summary: `the feed ${feedAddress} is a ReplayAggregator; its owner is impersonated`,
    };
  }

  const aggregator = new Contract(feedAddress, AGGREGATOR_ABI, ethers.provider);
  let decimals: number;
  let description: string;
  try {
    decimals = Number(await aggregator.getFunction("decimals")());
    description = await aggregator.getFunction("description")().catch(() => "feed");
  } catch (error) {
    throw new RiskkeeperError("FEED_FAILED", "the protocol's feed answers no decimals(): not an AggregatorV3 contract", { input: feedAddress, cause: error });
  }

  const proxy = new Contract(feedAddress, PROXY_ABI, ethers.provider);
  const isProxy = await succeeds(async () => {
    await proxy.getFunction("phaseId")();
    await proxy.getFunction("aggregator")();
    await proxy.getFunction("owner")();
  });
  if (isProxy) {
    const previousAggregator: string = await proxy.getFunction("aggregator")();
    const owner = await impersonate(connection, await proxy.getFunction("owner")());
    const ownerAddress = await owner.getAddress();
    const fresh = await ethers.deployContract("ReplayAggregator", [decimals, shortDescription(description), ownerAddress], owner);
    const replayAddress = await fresh.getAddress();
    const asOwner = proxy.connect(owner) as Contract;
    try {
      await (await asOwner.getFunction("proposeAggregator")(replayAddress)).wait();
      await (await asOwner.getFunction("confirmAggregator")(replayAddress)).wait();
    } catch (error) {
      throw new RiskkeeperError("FEED_FAILED", `the proxy's owner ${ownerAddress} could not point it at a replay feed: ${(error as Error).message}`, { input: feedAddress, cause: error });
    }
    const current: string = await proxy.getFunction("aggregator")();
    if (current.toLowerCase() !== replayAddress.toLowerCase()) {
      throw new RiskkeeperError("FEED_FAILED", `the proxy still reads ${current} after confirmAggregator(${replayAddress})`, { input: feedAddress });
    }
    const phaseId = Number(await proxy.getFunction("phaseId")());
    return {
      kind: "proxy", feed: feedAddress, replayAddress, replay: new Contract(replayAddress, abi, owner), owner, decimals, phaseId, previousAggregator,
      summary: `the feed ${feedAddress} is a proxy: its owner ${ownerAddress} pointed it from ${previousAggregator} to the replay feed ${replayAddress} (phase ${phaseId})`,
    };
  }

  return replaceCode(connection, feedAddress, decimals, description, abi);
}

async function replaceCode(connection: Connection, feedAddress: string, decimals: number, description: string, abi: InterfaceAbi): Promise<FeedTakeover> {
  const { ethers, networkHelpers } = connection;
  const owner = await impersonate(connection, TAKEOVER_OWNER);
  const layout = await replayStorageLayout();
  const ownerSlot = layout.find((s) => s.label === "_owner" && s.type === "t_address");
  if (!ownerSlot) throw new RiskkeeperError("FEED_FAILED", "ReplayAggregator's storage layout has no Ownable _owner slot", { input: "ReplayAggregator" });
  const fresh = await ethers.deployContract("ReplayAggregator", [decimals, shortDescription(description), TAKEOVER_OWNER], owner);
  const freshAddress = await fresh.getAddress();
  await networkHelpers.setCode(feedAddress, await ethers.provider.getCode(freshAddress));
  // Every slot of the layout (values, array lengths, mapping roots) as in a freshly constructed
  // instance: whatever the foreign contract kept there would otherwise read as replay state.
  const slots = [...new Set(layout.flatMap((s) => Array.from({ length: s.slots }, (_, i) => s.slot + BigInt(i))))];
  for (const slot of slots) {
    await networkHelpers.setStorageAt(feedAddress, slot, await ethers.provider.getStorage(freshAddress, slot));
  }
  await networkHelpers.setStorageAt(feedAddress, ownerSlot.slot, ethers.zeroPadValue(TAKEOVER_OWNER, 32));
  const replay = new Contract(feedAddress, abi, owner);
  const checks: Array<[string, unknown, unknown]> = [
    ["owner()", String(await replay.getFunction("owner")()).toLowerCase(), TAKEOVER_OWNER.toLowerCase()],
    ["decimals()", Number(await replay.getFunction("decimals")()), decimals],
    ["loadedCount()", await replay.getFunction("loadedCount")(), 0n],
    ["visibleCount()", await replay.getFunction("visibleCount")(), 0n],
  ];
  for (const [what, got, want] of checks) {
    if (got !== want) throw new RiskkeeperError("FEED_FAILED", `after replacing the feed's code, ${what} reads ${String(got)}, expected ${String(want)}`, { input: feedAddress });
  }
  return {
    kind: "code-replaced", feed: feedAddress, replayAddress: feedAddress, replay, owner, decimals,
    summary: `the feed ${feedAddress} is a plain aggregator: its code was replaced by ReplayAggregator's (${slots.length} storage slots reset, owner ${TAKEOVER_OWNER} impersonated)`,
  };
}

let layoutCache: Promise<StorageSlot[]> | undefined;

/**
 * ReplayAggregator's storage layout, from the compiler: the build-info of the artifact in use is
 * compiled again (solc from the npm package, same version) asking only for `storageLayout`.
 */
export function replayStorageLayout(): Promise<StorageSlot[]> {
  layoutCache ??= computeLayout().catch((error) => {
    layoutCache = undefined;
    throw error;
  });
  return layoutCache;
}

async function computeLayout(): Promise<StorageSlot[]> {
  const hre = (await import("hardhat")).default;
  const artifact = (await hre.artifacts.readArtifact("ReplayAggregator")) as unknown as { buildInfoId?: string; inputSourceName?: string; sourceName: string };
  if (!artifact.buildInfoId) throw new RiskkeeperError("FEED_FAILED", "the ReplayAggregator artifact names no build info (run `hardhat build`)", { input: "ReplayAggregator" });
  const file = path.join(hre.config.paths.artifacts, "build-info", `${artifact.buildInfoId}.json`);
  const buildInfo = JSON.parse(await readFile(file, "utf8")) as { solcVersion?: string; input: { sources: Record<string, unknown>; settings: Record<string, unknown> } };
  const source = artifact.inputSourceName ?? artifact.sourceName;
  const input = { ...buildInfo.input, settings: { ...buildInfo.input.settings, outputSelection: { [source]: { ReplayAggregator: ["storageLayout"] } } } };
  const { default: solc } = (await import("solc")) as unknown as { default: { compile(input: string): string; version(): string } };
  if (buildInfo.solcVersion && !solc.version().startsWith(buildInfo.solcVersion)) {
    throw new RiskkeeperError("FEED_FAILED", `the solc package is ${solc.version()} but the artifact was built with ${buildInfo.solcVersion}`, { input: file });
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: Array<{ severity: string; formattedMessage: string }>;
    contracts?: Record<string, Record<string, { storageLayout?: { storage: Array<{ label: string; slot: string; offset: number; type: string }>; types: Record<string, { numberOfBytes: string }> | null } }>>;
  };
  const storageLayout = output.contracts?.[source]?.ReplayAggregator?.storageLayout;
  const storage = storageLayout?.storage;
  if (!storage) {
    const errors = (output.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage).join("; ");
    throw new RiskkeeperError("FEED_FAILED", `no storage layout for ReplayAggregator${errors ? `: ${errors}` : ""}`, { input: file });
  }
  const slotsOf = (type: string) => Math.max(1, Math.ceil(Number(storageLayout?.types?.[type]?.numberOfBytes ?? 32) / 32));
  return storage.map((s) => ({ label: s.label, slot: BigInt(s.slot), offset: s.offset, type: s.type, slots: slotsOf(s.type) }));
}
