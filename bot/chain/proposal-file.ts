// Reading a proposal file for submission: the shared format of bot/proposal.ts, plus the
// addresses it is sent to — either a deployment file (`"deployment": "deployments/31337.json"`,
// relative to the proposal file) or inline (`"deployment": { "chainId": "31337", "contracts":
// { "steward": "0x…", "governor": "0x…" } }`).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { isAddress } from "ethers";
import { marketId } from "../../deploy/market-config.ts";
import { parseProposal, readDeploymentFile, type Proposal } from "../proposal.ts";
import { ChainError } from "./errors.ts";
import type { MarketChange } from "./steward.ts";

/** The addresses the chain layer needs (a full deploy/deploy.ts Deployment fits). */
export interface ChainDeployment {
  chainId: string;
  market?: { name: string; id: string };
  contracts: { steward: string; governor?: string; timelock?: string; upkeep?: string };
}

/** Validates an inline deployment object; errors name the key. */
export function parseInlineDeployment(doc: unknown, source: string): ChainDeployment {
  const fail = (key: string, message: string): never => {
    throw new ChainError("INPUT_INVALID", message, { input: `${source}: deployment.${key}` });
  };
  if (typeof doc !== "object" || doc === null) fail("(root)", "expected a path or { chainId, contracts: { steward, governor?, upkeep? } }");
  const d = doc as Record<string, unknown>;
  const chainId = typeof d.chainId === "number" ? String(d.chainId) : d.chainId;
  if (typeof chainId !== "string" || !/^\d+$/.test(chainId)) fail("chainId", "expected a decimal chain id");
  const contracts = d.contracts as Record<string, unknown> | undefined;
  if (typeof contracts !== "object" || contracts === null) fail("contracts", "expected { steward, governor?, timelock?, upkeep? }");
  const out: ChainDeployment["contracts"] = { steward: "" };
  for (const key of ["steward", "governor", "timelock", "upkeep"] as const) {
    const v = contracts![key];
    if (v === undefined && key !== "steward") continue;
    if (typeof v !== "string" || !isAddress(v)) fail(`contracts.${key}`, "expected an address");
    out[key] = v as string;
  }
  return { chainId: chainId as string, contracts: out };
}

export interface SubmissionInput {
  proposal: Proposal;
  /** Undefined when neither the file nor the caller names one. */
  deployment?: ChainDeployment;
}

/**
 * Reads a proposal file and the deployment it names (file or inline); `deploymentFile` (e.g.
 * --deployment) takes precedence.
 */
export async function readSubmissionInput(file: string, deploymentFile?: string): Promise<SubmissionInput> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new ChainError("INPUT_INVALID", `cannot read: ${(error as Error).message}`, { input: file, cause: error });
  });
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new ChainError("INPUT_INVALID", `not valid JSON: ${(error as Error).message}`, { input: file, cause: error });
  }
  let inline: ChainDeployment | undefined;
  if (typeof doc === "object" && doc !== null && typeof doc.deployment === "object" && doc.deployment !== null) {
    inline = parseInlineDeployment(doc.deployment, file);
    doc = { ...doc };
    delete doc.deployment;
  }
  const proposal = parseProposal(doc, file, path.dirname(path.resolve(file)));
  const fromFile = deploymentFile ?? proposal.deploymentFile;
  const deployment = fromFile ? await readDeploymentFile(fromFile) : inline;
  return { proposal, ...(deployment ? { deployment } : {}) };
}

/** The proposal as a change of one market; the evidence hash is required to submit. */
export function toMarketChange(proposal: Proposal, source = "proposal"): MarketChange {
  if (!proposal.evidenceHash) {
    throw new ChainError("INPUT_INVALID", "an evidenceHash is required to submit (the steward rejects updates without evidence)", { input: `${source}: evidenceHash` });
  }
  return {
    market: proposal.market,
    marketId: marketId(proposal.market),
    updates: proposal.updates,
    evidenceHash: proposal.evidenceHash,
    ...(proposal.evidenceSummary !== undefined ? { evidenceSummary: proposal.evidenceSummary } : {}),
  };
}
