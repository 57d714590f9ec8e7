// One proposal through one path, as `riskkeeper propose` runs it: the chain is checked against the
// deployment before anything else, then
//   direct      the keeper's bounded updateParams (refused before sending when out of bounds)
//   automation  the keeper's queueUpdate, applied later by StewardUpkeep
//   governance  one idempotent step of the Governor proposal (propose / queue / execute / wait)
//   safe        a Safe Transaction Builder batch (nothing is signed or sent)
import type { Provider } from "ethers";
import { bindGovernor, bindSteward, errorInterfaces } from "./bindings.ts";
import { ChainError } from "./errors.ts";
import { advanceGovernanceProposal, buildGovernanceProposal, type GovernanceProposal, type GovernanceStep } from "./governance.ts";
import type { SubmissionJournal } from "./journal.ts";
import type { ChainDeployment } from "./proposal-file.ts";
import { assertChainId } from "./provider.ts";
import { buildSafeBatch, type SafeBatch, type SafeCall } from "./safe-batch.ts";
import { submitDirectUpdate, submitQueuedUpdate, type DirectUpdateResult, type MarketChange, type QueuedUpdateResult } from "./steward.ts";
import { TxManager, type ChainLogger, type Clock, type FeePolicy, type TxSigner } from "./tx-manager.ts";

export const VIAS = ["direct", "governance", "safe", "automation"] as const;
export type Via = (typeof VIAS)[number];

export interface ProposeConfig {
  change: MarketChange;
  deployment: ChainDeployment;
  via: Via;
  dryRun?: boolean;
  /** Send again what the journal records as failed (never what is sent, mined or confirmed). */
  retryFailed?: boolean;
  /** Required for every path but safe. */
  provider?: Provider;
  signer?: TxSigner;
  journal?: SubmissionJournal;
  fees?: FeePolicy;
  confirmations?: number;
  clock?: Clock;
  pollIntervalMs?: number;
  stuckAfterMs?: number;
  logger?: ChainLogger;
  safe?: { address: string; call?: SafeCall; createdAt: number };
}

export type ProposeOutcome =
  | { via: "direct"; dryRun: boolean; result: DirectUpdateResult }
  | { via: "automation"; dryRun: boolean; result: QueuedUpdateResult }
  | { via: "governance"; dryRun: boolean; proposal: GovernanceProposal; step: GovernanceStep }
  | { via: "safe"; dryRun: boolean; batch: SafeBatch };

/**
 * Runs one proposal through one path.
 *
 * @example
 * const outcome = await propose({ change, deployment, via: "direct", provider, signer, journal, fees });
 */
export async function propose(config: ProposeConfig): Promise<ProposeOutcome> {
  const { change, deployment, via } = config;
  const dryRun = config.dryRun ?? false;
  const submitOptions = { dryRun, ...(config.retryFailed ? { retryFailed: true } : {}) };
  if (via === "safe") {
    if (!config.safe) throw new ChainError("INPUT_INVALID", "the safe path needs the Safe's address", { input: "--safe" });
    if (config.provider) await assertChainId(config.provider, deployment.chainId);
    const steward = bindSteward(deployment.contracts.steward, config.provider ?? null);
    return { via, dryRun, batch: buildSafeBatch(steward, change, { chainId: deployment.chainId, safeAddress: config.safe.address, createdAt: config.safe.createdAt, ...(config.safe.call ? { call: config.safe.call } : {}) }) };
  }
  const { provider, signer, journal, fees } = config;
  if (!provider || !signer || !journal || !fees) throw new ChainError("INPUT_INVALID", `the ${via} path needs a provider, a signer, a journal and a fee policy`, { input: "--via" });
  await assertChainId(provider, deployment.chainId);
  const manager = new TxManager({
    provider,
    signer,
    chainId: BigInt(deployment.chainId),
    journal,
    fees,
    errorInterfaces: errorInterfaces(),
    ...(config.confirmations !== undefined ? { confirmations: config.confirmations } : {}),
    ...(config.clock ? { clock: config.clock } : {}),
    ...(config.pollIntervalMs !== undefined ? { pollIntervalMs: config.pollIntervalMs } : {}),
    ...(config.stuckAfterMs !== undefined ? { stuckAfterMs: config.stuckAfterMs } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  });
  const steward = bindSteward(deployment.contracts.steward, provider);
  if (via === "direct") return { via, dryRun, result: await submitDirectUpdate(manager, steward, provider, change, submitOptions) };
  if (via === "automation") return { via, dryRun, result: await submitQueuedUpdate(manager, steward, provider, change, submitOptions) };
  if (!deployment.contracts.governor) throw new ChainError("INPUT_INVALID", "the governance path needs the governor's address", { input: "deployment.contracts.governor" });
  const governor = bindGovernor(deployment.contracts.governor, provider);
  const proposal = buildGovernanceProposal(steward, change);
  return { via, dryRun, proposal, step: await advanceGovernanceProposal(manager, governor, provider, proposal, submitOptions) };
}

const jsonable = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));

/** The outcome as plain JSON (bigints as strings; receipts reduced to hash, block, gas, status). */
export function outcomeJson(outcome: ProposeOutcome): unknown {
  const reduce = (s: unknown): unknown => {
    if (!s || typeof s !== "object") return s;
    const sub = s as { dryRun?: boolean; record?: { attempts?: Array<Record<string, unknown>> } & Record<string, unknown>; receipt?: { hash: string; blockNumber: number; gasUsed: bigint; status: number | null }; resumed?: boolean };
    if (sub.dryRun) return s;
    const record = sub.record ? { ...sub.record, attempts: sub.record.attempts?.map(({ raw: _raw, ...a }) => a) } : undefined;
    return { dryRun: false, resumed: sub.resumed, record, receipt: sub.receipt && { hash: sub.receipt.hash, blockNumber: sub.receipt.blockNumber, gasUsed: sub.receipt.gasUsed, status: sub.receipt.status } };
  };
  switch (outcome.via) {
    case "direct":
    case "automation":
      return jsonable({ ...outcome, result: { ...outcome.result, submission: reduce(outcome.result.submission) } });
    case "governance":
      return jsonable({ ...outcome, step: { ...outcome.step, submission: reduce(outcome.step.submission) } });
    case "safe":
      return jsonable(outcome);
  }
}
