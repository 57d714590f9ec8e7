// The governance path, for a change outside the keeper's bounds: the Governor proposes
// `steward.setParams(market, updates, evidenceHash)` to be executed by the timelock (the steward's
// admin). The proposal (targets, values, calldatas, description) depends only on the change, so
// re-running it finds the same proposal id; `advanceGovernanceProposal` is one idempotent step
// (propose if unknown, queue once succeeded, execute once the timelock's eta has passed) and
// `followGovernanceProposal` repeats it on an injected clock until the proposal ends.
import { AbiCoder, id as keccakText, keccak256, type Provider } from "ethers";
import type { GovernorBinding, StewardBinding } from "./bindings.ts";
import { ChainError } from "./errors.ts";
import { updateTuples, type MarketChange } from "./steward.ts";
import { systemClock, type Clock, type DryRunResult, type SubmitResult, type TxManager } from "./tx-manager.ts";

export interface GovernanceProposal {
  targets: string[];
  values: bigint[];
  calldatas: string[];
  description: string;
  descriptionHash: string;
  /** OpenZeppelin Governor's id: keccak256(abi.encode(targets, values, calldatas, descriptionHash)). */
  proposalId: bigint;
}

/** OpenZeppelin IGovernor.ProposalState, by index. */
export const PROPOSAL_STATES = ["pending", "active", "canceled", "defeated", "succeeded", "queued", "expired", "executed"] as const;
export type ProposalStateName = (typeof PROPOSAL_STATES)[number] | "unknown";
const TERMINAL: ReadonlySet<ProposalStateName> = new Set(["canceled", "defeated", "expired", "executed"]);

/** The description: a title, the changes, the evidence summary and hash. Deterministic in the change. */
export function proposalDescription(change: MarketChange): string {
  const lines = [
    `riskkeeper: set ${change.market} ${change.updates.map((u) => `${u.parameter} = ${u.value}`).join(", ")}`,
    "",
    "Changes (steward.setParams through the timelock):",
    ...change.updates.map((u) => `- ${u.parameter}: ${u.value}`),
    "",
    `Evidence: ${change.evidenceSummary ?? "(no summary given)"}`,
    `Evidence hash: ${change.evidenceHash}`,
  ];
  return lines.join("\n");
}

export function hashProposal(targets: string[], values: bigint[], calldatas: string[], descriptionHash: string): bigint {
  return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["address[]", "uint256[]", "bytes[]", "bytes32"], [targets, values, calldatas, descriptionHash])));
}

/**
 * The proposal for a change: one call to the steward's `setParams` (governance may set any value
 * in a parameter's domain; the margin order still holds).
 *
 * @example
 * const p = buildGovernanceProposal(steward, change);
 * await governor.read.hashProposal(p.targets, p.values, p.calldatas, p.descriptionHash) === p.proposalId;
 */
export function buildGovernanceProposal(steward: StewardBinding, change: MarketChange): GovernanceProposal {
  const targets = [steward.address];
  const values = [0n];
  const calldatas = [steward.encode("setParams", [change.marketId, updateTuples(change), change.evidenceHash])];
  const description = proposalDescription(change);
  const descriptionHash = keccakText(description);
  return { targets, values, calldatas, description, descriptionHash, proposalId: hashProposal(targets, values, calldatas, descriptionHash) };
}

/** The proposal's state; "unknown" when the governor has never seen it. */
export async function proposalState(governor: GovernorBinding, proposalId: bigint): Promise<ProposalStateName> {
  if ((await governor.read.proposalSnapshot(proposalId)) === 0n) return "unknown";
  return PROPOSAL_STATES[Number(await governor.read.state(proposalId))] ?? "unknown";
}

export interface GovernanceStep {
  proposalId: bigint;
  /** State before the step. */
  state: ProposalStateName;
  /** What this step did. */
  action: "proposed" | "queued" | "executed" | "waiting" | "done" | "failed";
  /** Why it waits or failed ("voting ends at block N", "eta T"). */
  note?: string;
  submission?: SubmitResult | DryRunResult;
}

/** Throws MISSING_ROLE unless the signer has the votes to propose. */
async function assertCanPropose(governor: GovernorBinding, account: string): Promise<void> {
  const threshold = await governor.read.proposalThreshold();
  if (threshold === 0n) return;
  const clock = await governor.read.clock();
  const votes = await governor.read.getVotes(account, clock - 1n);
  if (votes < threshold) {
    throw new ChainError("MISSING_ROLE", `${account} has ${votes} votes, below the governor's proposal threshold ${threshold}; nothing sent`, { input: account });
  }
}

/**
 * One idempotent step of a proposal's life. Safe to call repeatedly (each transaction is keyed in
 * the journal by the proposal id and the step).
 */
export async function advanceGovernanceProposal(
  manager: TxManager,
  governor: GovernorBinding,
  provider: Provider,
  proposal: GovernanceProposal,
  options: { dryRun?: boolean; retryFailed?: boolean } = {},
): Promise<GovernanceStep> {
  await manager.assertChain();
  const { proposalId } = proposal;
  const state = await proposalState(governor, proposalId);
  const key = (step: string) => `governance:${proposalId.toString(16)}:${step}`;
  const send = async (step: "propose" | "queue" | "execute", data: string): Promise<SubmitResult | DryRunResult> => {
    const req = { updateId: key(step), to: governor.address, data, label: `governor.${step} ${proposalId.toString(16).slice(0, 10)}`, ...(options.retryFailed ? { retryFailed: true } : {}) };
    return options.dryRun ? manager.dryRun(req) : manager.submit(req);
  };
  const args = [proposal.targets, proposal.values, proposal.calldatas] as const;
  switch (state) {
    case "unknown": {
      await assertCanPropose(governor, manager.address);
      const submission = await send("propose", governor.encode("propose", [...args, proposal.description]));
      return { proposalId, state, action: "proposed", submission };
    }
    case "pending":
    case "active": {
      const [snapshot, deadline] = await Promise.all([governor.read.proposalSnapshot(proposalId), governor.read.proposalDeadline(proposalId)]);
      return { proposalId, state, action: "waiting", note: state === "pending" ? `voting starts after timepoint ${snapshot}` : `voting ends at timepoint ${deadline}` };
    }
    case "succeeded": {
      if (await governor.read.proposalNeedsQueuing(proposalId)) {
        const submission = await send("queue", governor.encode("queue", [...args, proposal.descriptionHash]));
        return { proposalId, state, action: "queued", submission };
      }
      const submission = await send("execute", governor.encode("execute", [...args, proposal.descriptionHash]));
      return { proposalId, state, action: "executed", submission };
    }
    case "queued": {
      const eta = await governor.read.proposalEta(proposalId);
      const now = BigInt((await provider.getBlock("latest"))!.timestamp);
      if (now < eta) return { proposalId, state, action: "waiting", note: `timelock eta ${eta}, chain time ${now}` };
      const submission = await send("execute", governor.encode("execute", [...args, proposal.descriptionHash]));
      return { proposalId, state, action: "executed", submission };
    }
    case "executed":
      return { proposalId, state, action: "done" };
    default:
      return { proposalId, state, action: "failed", note: `the proposal is ${state}` };
  }
}

export interface FollowOptions {
  clock?: Clock;
  pollIntervalMs?: number;
  /** Longest follow; default 7 days. */
  maxWaitMs?: number;
  /** Called after every step (a logger, or a test moving the chain). */
  onStep?: (step: GovernanceStep) => Promise<void> | void;
}

/** Advances a proposal until it is executed (returns the steps) or ends otherwise (PROPOSAL_STATE). */
export async function followGovernanceProposal(
  manager: TxManager,
  governor: GovernorBinding,
  provider: Provider,
  proposal: GovernanceProposal,
  options: FollowOptions = {},
): Promise<GovernanceStep[]> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  const steps: GovernanceStep[] = [];
  for (;;) {
    const step = await advanceGovernanceProposal(manager, governor, provider, proposal);
    steps.push(step);
    await options.onStep?.(step);
    if (step.action === "done" || step.action === "executed") return steps;
    if (step.action === "failed" || TERMINAL.has(step.state)) {
      throw new ChainError("PROPOSAL_STATE", `proposal ${proposal.proposalId} ended ${step.state}`, { details: { proposalId: proposal.proposalId.toString(), state: step.state } });
    }
    if (clock.now() - start >= (options.maxWaitMs ?? 7 * 86_400_000)) {
      throw new ChainError("PROPOSAL_STATE", `proposal ${proposal.proposalId} still ${step.state} at the end of the wait`, { details: { state: step.state } });
    }
    if (step.action === "waiting") await clock.sleep(options.pollIntervalMs ?? 60_000);
  }
}
