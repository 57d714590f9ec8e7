// Contract bindings from the compiled Hardhat artifacts (artifacts/contracts/**/<Name>.json): the
// ABI is never written by hand. Each binding names the functions the bot uses; loading checks they
// are in the artifact (a stale or missing build fails here, with the contract named, not later as
// an opaque "function not found"). The TypeScript types of those functions are in bindings.ts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Interface, type InterfaceAbi } from "ethers";
import { ChainError } from "./errors.ts";

/** Repository root (two levels above bot/chain). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Source file of each contract the bot binds to, relative to contracts/. */
export const CONTRACT_SOURCES = {
  RiskParameterSteward: "RiskParameterSteward.sol",
  StewardUpkeep: "automation/StewardUpkeep.sol",
  RiskGovernor: "governance/RiskGovernor.sol",
  RiskTimelock: "governance/RiskTimelock.sol",
  RiskVotesToken: "governance/RiskVotesToken.sol",
} as const;
export type ContractName = keyof typeof CONTRACT_SOURCES;

export interface ArtifactOptions {
  /** Directory holding Hardhat's artifacts (default: <repo>/artifacts). */
  artifactsDir?: string;
}

const cache = new Map<string, Interface>();

/** Path of a contract's artifact JSON. */
export function artifactPath(name: ContractName, options: ArtifactOptions = {}): string {
  const dir = options.artifactsDir ?? path.join(ROOT, "artifacts");
  return path.join(dir, "contracts", CONTRACT_SOURCES[name], `${name}.json`);
}

/** The ABI of a compiled contract, read from its artifact. */
export function loadAbi(name: ContractName, options: ArtifactOptions = {}): InterfaceAbi {
  const file = artifactPath(name, options);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ChainError("ARTIFACT_MISSING", `no compiled artifact for ${name}; run \`npm run build\``, { input: file, cause: error });
  }
  const doc = JSON.parse(text) as { contractName?: string; abi?: unknown };
  if (doc.contractName !== name || !Array.isArray(doc.abi)) {
    throw new ChainError("ARTIFACT_MISSING", `not the artifact of ${name}`, { input: file });
  }
  return doc.abi as InterfaceAbi;
}

/**
 * The ethers Interface of a contract, checked to contain `required` functions (by name).
 *
 * @example
 * const iface = contractInterface("RiskParameterSteward", ["updateParams"]);
 * const data = iface.encodeFunctionData("updateParams", [market, [[0, 1200n]], evidenceHash]);
 */
export function contractInterface(name: ContractName, required: readonly string[] = [], options: ArtifactOptions = {}): Interface {
  const key = `${options.artifactsDir ?? ""}:${name}`;
  let iface = cache.get(key);
  if (!iface) {
    iface = new Interface(loadAbi(name, options));
    cache.set(key, iface);
  }
  const missing = required.filter((fn) => iface.getFunction(fn) === null);
  if (missing.length > 0) {
    throw new ChainError("ARTIFACT_MISSING", `the compiled ${name} has no function ${missing.join(", ")}; rebuild the contracts`, {
      input: artifactPath(name, options),
    });
  }
  return iface;
}
