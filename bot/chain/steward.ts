// The keeper's paths through the steward: the bounded `updateParams` (direct) and `queueUpdate`
// (automation: StewardUpkeep applies it after the queue delay). Before anything is signed, the
// update is judged twice against the chain as it stands: by the keeper's mirror of the bounds
// (bot/rules/bounds.ts, on state read from the steward) and by the steward's own `checkUpdate`
// view; either rejection refuses the submission with the bound it breaks. The signer's role is
// checked too. Then the transaction manager simulates, sends once, and confirms.
import { AbiCoder, keccak256, type Provider } from "ethers";
import { PARAM, type ParamName } from "../../deploy/market-config.ts";
import { checkStewardUpdate, PARAMETER_NAMES, type StewardBounds, type StewardMarketState, type StewardViolation } from "../rules/bounds.ts";
import type { StewardBinding, ParamUpdateTuple } from "./bindings.ts";
import { ChainError } from "./errors.ts";
import { decodeRevertData, formatRevert, type DecodedRevert } from "./revert.ts";
import type { DryRunResult, SubmitResult, TxManager } from "./tx-manager.ts";

/** A change to one market: what a proposal file carries, resolved to the on-chain market id. */
export interface MarketChange {
  /** Market name ("ETH-USD"). */
  market: string;
  /** bytes32 market id on the steward. */
  marketId: string;
  updates: Array<{ parameter: ParamName; value: bigint }>;
  evidenceHash: string;
  evidenceSummary?: string;
}

export function updateTuples(change: Pick<MarketChange, "updates">): ParamUpdateTuple[] {
  return change.updates.map((u) => [PARAM[u.parameter], u.value]);
}

/**
 * Deterministic id of a change on a path: the same proposal re-run (or retried after a restart)
 * maps to the same journal entry, so it is never sent twice.
 */
export function changeId(path: string, chainId: bigint | string, target: string, change: MarketChange): string {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["string", "uint256", "address", "bytes32", "tuple(uint8,int256)[]", "bytes32"],
    [path, BigInt(chainId), target, change.marketId, updateTuples(change), change.evidenceHash],
  );
  return `${path}:${change.market}:${keccak256(encoded)}`;
}

export interface OnChainMarket {
  state: StewardMarketState;
  /** Latest block timestamp (the mirror's `now`: conservative for the delay). */
  now: bigint;
}

const STEP_KIND = ["absolute", "relative"] as const;

/** Reads everything the bounds mirror needs: freezes, existence, all values and bounds. */
export async function readMarketState(steward: StewardBinding, provider: Provider, marketId: string): Promise<OnChainMarket> {
  const r = steward.read;
  const [stewardFrozen, exists, block] = await Promise.all([r.stewardFrozen(), r.marketExists(marketId), provider.getBlock("latest")]);
  const now = BigInt(block!.timestamp);
  if (!exists) return { state: { frozen: false, stewardFrozen, exists: false, bounds: new Map(), params: new Map() }, now };
  const [frozenAny, all, bounds] = await Promise.all([
    r.isFrozen(marketId),
    r.getAllParams(marketId),
    Promise.all(PARAMETER_NAMES.map((_, id) => r.getBounds(marketId, id))),
  ]);
  const boundsMap = new Map<number, StewardBounds>();
  bounds.forEach((b, id) => {
    if (b.maxStep !== 0n) {
      boundsMap.set(id, { min: b.min, max: b.max, maxStep: b.maxStep, minDelaySeconds: b.minDelaySeconds, stepKind: STEP_KIND[Number(b.stepKind)] ?? "absolute" });
    }
  });
  const params = new Map(all[0].map((value, id) => [id, { value, lastUpdatedAt: all[1][id]! }] as const));
  return { state: { frozen: frozenAny && !stewardFrozen, stewardFrozen, exists: true, bounds: boundsMap, params }, now };
}

export interface KeeperVerdict {
  /** First bound the mirror finds broken. */
  mirror?: StewardViolation;
  /** The steward's own verdict (checkUpdate), decoded. */
  steward?: DecodedRevert;
}

/**
 * Judges a keeper update with the mirror and the steward's `checkUpdate`. For the queue path
 * (`checkDelay: false`) the delay is left to execution time, as queueUpdate does.
 */
export async function judgeKeeperUpdate(steward: StewardBinding, provider: Provider, change: MarketChange, options: { checkDelay: boolean }): Promise<KeeperVerdict> {
  const { state, now } = await readMarketState(steward, provider, change.marketId);
  const updates = change.updates.map((u) => ({ parameter: PARAM[u.parameter], value: u.value }));
  const mirror = checkStewardUpdate(state, updates, now, { evidenceHash: change.evidenceHash, checkDelay: options.checkDelay });
  const reason = await steward.read.checkUpdate(change.marketId, updateTuples(change));
  let decoded = reason && reason !== "0x" ? decodeRevertData(reason, [steward.iface]) : undefined;
  if (!options.checkDelay && decoded?.name === "StewardUpdateTooSoon") decoded = undefined;
  return { ...(mirror ? { mirror } : {}), ...(decoded ? { steward: decoded } : {}) };
}

/** Throws BOUNDS_VIOLATION naming the broken bound when either judge rejects. */
export async function assertWithinBounds(steward: StewardBinding, provider: Provider, change: MarketChange, options: { checkDelay: boolean }): Promise<void> {
  const verdict = await judgeKeeperUpdate(steward, provider, change, options);
  if (!verdict.mirror && !verdict.steward) return;
  const parts: string[] = [];
  if (verdict.mirror) parts.push(`${verdict.mirror.error}: ${verdict.mirror.message}`);
  if (verdict.steward) parts.push(`steward.checkUpdate: ${formatRevert(verdict.steward)}`);
  throw new ChainError("BOUNDS_VIOLATION", `the steward would reject this update — ${parts.join("; ")}; nothing sent`, {
    input: `${change.market} ${change.updates.map((u) => `${u.parameter}=${u.value}`).join(", ")}`,
    details: { mirror: verdict.mirror, steward: verdict.steward },
  });
}

/** Throws MISSING_ROLE naming the address and the role unless `account` holds the steward's role. */
export async function assertStewardRole(steward: StewardBinding, account: string, role: "KEEPER_ROLE" | "GUARDIAN_ROLE" | "EXECUTOR_ROLE"): Promise<void> {
  const roleId = await steward.read[role]();
  if (!(await steward.read.hasRole(roleId, account))) {
    throw new ChainError("MISSING_ROLE", `${account} does not hold ${role} (${roleId}) on the steward ${steward.address}; nothing sent`, {
      input: account,
      details: { account, role, roleId, steward: steward.address },
    });
  }
}

export interface ParamUpdatedEvent {
  market: string;
  param: number;
  parameter: ParamName | undefined;
  oldValue: bigint;
  newValue: bigint;
  evidenceHash: string;
  source: number;
}

/** ParamUpdated events of a receipt emitted by the steward. */
export function paramUpdatedEvents(steward: StewardBinding, logs: readonly { address: string; topics: readonly string[]; data: string }[]): ParamUpdatedEvent[] {
  const out: ParamUpdatedEvent[] = [];
  for (const log of logs) {
    if (log.address.toLowerCase() !== steward.address.toLowerCase()) continue;
    const parsed = steward.iface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name !== "ParamUpdated") continue;
    const param = Number(parsed.args[1]);
    out.push({
      market: parsed.args[0] as string,
      param,
      parameter: PARAMETER_NAMES[param] as ParamName | undefined,
      oldValue: parsed.args[2] as bigint,
      newValue: parsed.args[3] as bigint,
      evidenceHash: parsed.args[4] as string,
      source: Number(parsed.args[5]),
    });
  }
  return out;
}

export interface SubmitOptions {
  /** Simulate and report; sign, send and record nothing. */
  dryRun?: boolean;
  /** Send again an update the journal records as failed (see TxRequest.retryFailed). */
  retryFailed?: boolean;
}

/** True when the journal holds the id in a state that is reconciled rather than judged again. */
async function isRecorded(manager: TxManager, updateId: string, options: SubmitOptions): Promise<boolean> {
  const record = await manager.journal.get(updateId);
  return record !== undefined && !(record.status === "failed" && options.retryFailed);
}

export interface DirectUpdateResult {
  updateId: string;
  submission: SubmitResult | DryRunResult;
  /** ParamUpdated events of the confirmed transaction (empty on a dry run). */
  events: ParamUpdatedEvent[];
}

/**
 * The direct path: `updateParams(market, updates, evidenceHash)` from the keeper.
 *
 * @example
 * const r = await submitDirectUpdate(manager, steward, provider, change);
 * r.events[0].evidenceHash === change.evidenceHash;
 */
export async function submitDirectUpdate(
  manager: TxManager,
  steward: StewardBinding,
  provider: Provider,
  change: MarketChange,
  options: SubmitOptions = {},
): Promise<DirectUpdateResult> {
  await manager.assertChain();
  const updateId = changeId("direct", manager.chainId, steward.address, change);
  const req = {
    updateId,
    to: steward.address,
    data: steward.encode("updateParams", [change.marketId, updateTuples(change), change.evidenceHash]),
    label: `updateParams ${change.market}`,
    ...(options.retryFailed ? { retryFailed: true } : {}),
  };
  // A recorded submission is reconciled, not re-judged: after it landed the bounds say NoChange.
  if (!(await isRecorded(manager, updateId, options))) {
    await assertStewardRole(steward, manager.address, "KEEPER_ROLE");
    await assertWithinBounds(steward, provider, change, { checkDelay: true });
  }
  if (options.dryRun) return { updateId, submission: await manager.dryRun(req), events: [] };
  const submission = await manager.submit(req);
  return { updateId, submission, events: paramUpdatedEvents(steward, submission.receipt.logs) };
}

export interface QueuedUpdateResult {
  updateId: string;
  submission: SubmitResult | DryRunResult;
  /** The steward's queue id, and when the upkeep may apply it (absent on a dry run). */
  queued?: { queueId: bigint; executableAt: bigint; expiresAt: bigint };
}

/** The automation path: `queueUpdate` for StewardUpkeep to apply after the queue delay. */
export async function submitQueuedUpdate(
  manager: TxManager,
  steward: StewardBinding,
  provider: Provider,
  change: MarketChange,
  options: SubmitOptions = {},
): Promise<QueuedUpdateResult> {
  await manager.assertChain();
  const updateId = changeId("automation", manager.chainId, steward.address, change);
  const req = {
    updateId,
    to: steward.address,
    data: steward.encode("queueUpdate", [change.marketId, updateTuples(change), change.evidenceHash]),
    label: `queueUpdate ${change.market}`,
    ...(options.retryFailed ? { retryFailed: true } : {}),
  };
  if (!(await isRecorded(manager, updateId, options))) {
    await assertStewardRole(steward, manager.address, "KEEPER_ROLE");
    await assertWithinBounds(steward, provider, change, { checkDelay: false });
  }
  if (options.dryRun) return { updateId, submission: await manager.dryRun(req) };
  const submission = await manager.submit(req);
  for (const log of submission.receipt.logs) {
    if (log.address.toLowerCase() !== steward.address.toLowerCase()) continue;
    const parsed = steward.iface.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed?.name === "UpdateQueued") {
      return { updateId, submission, queued: { queueId: parsed.args[0] as bigint, executableAt: parsed.args[3] as bigint, expiresAt: parsed.args[4] as bigint } };
    }
  }
  return { updateId, submission };
}
