// The proposal file: one JSON document naming a market and the parameter values proposed, shared
// by `riskkeeper validate` and `riskkeeper propose`.
//
//   {
//     "market": "ETH-USD",
//     "updates": [{ "parameter": "initialMarginBps", "value": "1200" }],
//     "evidenceHash": "0x…32 bytes…",          optional for validate, required to submit
//     "evidenceSummary": "FHS 99% ES 24h …",   optional, goes into governance descriptions
//     "deployment": "deployments/31337.json"   optional, relative to the proposal file
//   }
import { readFile } from "node:fs/promises";
import path from "node:path";
import { RiskkeeperError } from "./errors.ts";
import { PARAM, PARAM_NAMES, type ParamName } from "../deploy/market-config.ts";
import type { Deployment } from "../deploy/deploy.ts";

export interface Proposal {
  market: string;
  updates: Array<{ parameter: ParamName; value: bigint }>;
  evidenceHash?: string;
  evidenceSummary?: string;
  /** Absolute path of the deployment file, when the proposal names one. */
  deploymentFile?: string;
}

const INT_PATTERN = /^-?\d+$/;

/** Validates a parsed proposal document; every error names the key that is wrong. */
export function parseProposal(doc: unknown, source = "proposal", baseDir = process.cwd()): Proposal {
  const fail = (key: string, message: string): never => {
    throw new RiskkeeperError("INPUT_INVALID", message, { input: `${source}: ${key}` });
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("(root)", "expected a JSON object");
  const d = doc as Record<string, unknown>;
  if (typeof d.market !== "string" || d.market.length === 0 || d.market.length > 31) fail("market", "expected a market name of 1 to 31 characters (stored as bytes32)");
  if (!Array.isArray(d.updates) || d.updates.length === 0) fail("updates", "expected a non-empty array of { parameter, value }");
  const seen = new Set<string>();
  const updates = (d.updates as unknown[]).map((u, i) => {
    const key = `updates[${i}]`;
    if (typeof u !== "object" || u === null) fail(key, "expected { parameter, value }");
    const { parameter, value } = u as Record<string, unknown>;
    if (typeof parameter !== "string" || !(parameter in PARAM)) fail(`${key}.parameter`, `unknown parameter '${String(parameter)}'; expected one of ${PARAM_NAMES.join(", ")}`);
    if (seen.has(parameter as string)) fail(`${key}.parameter`, `'${parameter}' appears twice`);
    seen.add(parameter as string);
    const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
    if (typeof text !== "string" || !INT_PATTERN.test(text)) fail(`${key}.value`, `expected an integer (string or safe integer), got ${JSON.stringify(value)}`);
    return { parameter: parameter as ParamName, value: BigInt(text as string) };
  });
  if (d.evidenceHash !== undefined && (typeof d.evidenceHash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(d.evidenceHash) || /^0x0{64}$/.test(d.evidenceHash))) {
    fail("evidenceHash", "expected a non-zero 32-byte hex string");
  }
  if (d.evidenceSummary !== undefined && typeof d.evidenceSummary !== "string") fail("evidenceSummary", "expected a string");
  if (d.deployment !== undefined && typeof d.deployment !== "string") fail("deployment", "expected a path to a deployment JSON file");
  return {
    market: d.market as string,
    updates,
    ...(d.evidenceHash !== undefined ? { evidenceHash: d.evidenceHash as string } : {}),
    ...(d.evidenceSummary !== undefined ? { evidenceSummary: d.evidenceSummary as string } : {}),
    ...(d.deployment !== undefined ? { deploymentFile: path.resolve(baseDir, d.deployment as string) } : {}),
  };
}

export async function readProposalFile(file: string): Promise<Proposal> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new RiskkeeperError("INPUT_INVALID", `cannot read: ${(error as Error).message}`, { input: file, cause: error });
  });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new RiskkeeperError("INPUT_INVALID", `not valid JSON: ${(error as Error).message}`, { input: file, cause: error });
  }
  return parseProposal(doc, file, path.dirname(path.resolve(file)));
}

export async function readDeploymentFile(file: string): Promise<Deployment> {
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new RiskkeeperError("INPUT_INVALID", `cannot read the deployment file: ${(error as Error).message}`, { input: file, cause: error });
  });
  let d: Deployment;
  try {
    d = JSON.parse(text) as Deployment;
  } catch (error) {
    throw new RiskkeeperError("INPUT_INVALID", `not valid JSON: ${(error as Error).message}`, { input: file, cause: error });
  }
  const required = ["steward", "protocol", "feed", "collateral", "timelock", "governor", "upkeep"] as const;
  for (const key of required) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(d?.contracts?.[key] ?? "")) {
      throw new RiskkeeperError("INPUT_INVALID", `contracts.${key} is missing or not an address`, { input: file });
    }
  }
  if (typeof d.chainId !== "string" || !/^\d+$/.test(d.chainId)) throw new RiskkeeperError("INPUT_INVALID", "chainId is missing", { input: file });
  if (typeof d.market?.id !== "string") throw new RiskkeeperError("INPUT_INVALID", "market.id is missing", { input: file });
  return d;
}
