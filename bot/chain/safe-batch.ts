// The Safe path: the same change exported as a Safe Transaction Builder batch file (the JSON the
// Safe{Wallet} Transaction Builder app imports), for a Safe that holds the steward's admin role
// (`setParams`, the default) or its keeper role (`updateParams`, `queueUpdate`). Nothing is sent:
// the Safe's owners review, sign and execute it.
//
// Format (Transaction Builder "1.0"):
//   { version: "1.0", chainId: "31337", createdAt: <ms>,
//     meta: { name, description, txBuilderVersion, createdFromSafeAddress, createdFromOwnerAddress, checksum },
//     transactions: [{ to, value: "0", data: "0x…", contractMethod: { inputs, name, payable },
//                      contractInputsValues: { market: "0x…", updates: "[[\"0\",\"1200\"]]", evidenceHash: "0x…" } }] }
// `checksum` is the Transaction Builder's own: keccak256 of the batch serialised with sorted keys
// and meta.name set to null (the app re-computes it on import).
import { getAddress, id as keccakText, isAddress, type JsonFragment } from "ethers";
import { loadAbi } from "./artifacts.ts";
import type { StewardBinding } from "./bindings.ts";
import { ChainError } from "./errors.ts";
import { proposalDescription } from "./governance.ts";
import { updateTuples, type MarketChange } from "./steward.ts";

export const TX_BUILDER_VERSION = "1.18.0";

export interface SafeContractInput {
  name: string;
  type: string;
  internalType?: string;
  components?: SafeContractInput[];
}

export interface SafeBatchTransaction {
  to: string;
  value: string;
  data: string | null;
  contractMethod: { inputs: SafeContractInput[]; name: string; payable: boolean };
  contractInputsValues: Record<string, string>;
}

export interface SafeBatch {
  version: "1.0";
  chainId: string;
  createdAt: number;
  meta: {
    name: string;
    description: string;
    txBuilderVersion: string;
    createdFromSafeAddress: string;
    createdFromOwnerAddress: string;
    checksum?: string;
  };
  transactions: SafeBatchTransaction[];
}

export type SafeCall = "setParams" | "updateParams" | "queueUpdate";

export interface SafeBatchOptions {
  chainId: bigint | string;
  safeAddress: string;
  /** Steward function the Safe calls (its role decides): default setParams (admin). */
  call?: SafeCall;
  /** Milliseconds since the epoch (inject for reproducible files). */
  createdAt: number;
  name?: string;
}

/** Key-sorted serialisation of the Transaction Builder's checksum. */
function serialise(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(serialise).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${JSON.stringify(keys)}${keys.map((k) => `${serialise((value as Record<string, unknown>)[k] ?? null)},`).join("")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The Transaction Builder's checksum of a batch (computed without its own checksum field). */
export function safeBatchChecksum(batch: SafeBatch): string {
  const { checksum: _omit, ...meta } = batch.meta;
  return keccakText(serialise({ ...batch, meta: { ...meta, name: null } }));
}

function methodInputs(name: SafeCall): SafeContractInput[] {
  const abi = loadAbi("RiskParameterSteward") as readonly JsonFragment[];
  const fragment = abi.find((f) => f.type === "function" && f.name === name);
  if (!fragment?.inputs) throw new ChainError("ARTIFACT_MISSING", `RiskParameterSteward has no ${name}`);
  const strip = (i: JsonFragment["inputs"] & object): SafeContractInput[] =>
    i.map((x) => ({ name: x.name ?? "", type: x.type ?? "", ...(x.internalType ? { internalType: x.internalType } : {}), ...(x.components ? { components: strip(x.components) } : {}) }));
  return strip(fragment.inputs);
}

/**
 * Builds the batch for a change.
 *
 * @example
 * const batch = buildSafeBatch(steward, change, { chainId: 1n, safeAddress, createdAt: Date.now() });
 * await writeFile("batch.json", JSON.stringify(batch, null, 2));
 */
export function buildSafeBatch(steward: StewardBinding, change: MarketChange, options: SafeBatchOptions): SafeBatch {
  if (!isAddress(options.safeAddress)) throw new ChainError("INPUT_INVALID", `not an address: ${options.safeAddress}`, { input: "safeAddress" });
  const call = options.call ?? "setParams";
  const tuples = updateTuples(change);
  const batch: SafeBatch = {
    version: "1.0",
    chainId: BigInt(options.chainId).toString(),
    createdAt: options.createdAt,
    meta: {
      name: options.name ?? `riskkeeper ${change.market} ${call}`,
      description: proposalDescription(change),
      txBuilderVersion: TX_BUILDER_VERSION,
      createdFromSafeAddress: getAddress(options.safeAddress),
      createdFromOwnerAddress: "",
    },
    transactions: [
      {
        to: getAddress(steward.address),
        value: "0",
        data: steward.encode(call, [change.marketId, tuples, change.evidenceHash]),
        contractMethod: { inputs: methodInputs(call), name: call, payable: false },
        contractInputsValues: {
          market: change.marketId,
          updates: JSON.stringify(tuples.map(([p, v]) => [String(p), v.toString()])),
          evidenceHash: change.evidenceHash,
        },
      },
    ],
  };
  batch.meta.checksum = safeBatchChecksum(batch);
  return batch;
}

// ------------------------------------------------------------------ schema

/** JSON Schema (draft-07 subset) of a Transaction Builder batch as this module writes it. */
export const SAFE_BATCH_SCHEMA = {
  type: "object",
  required: ["version", "chainId", "createdAt", "meta", "transactions"],
  properties: {
    version: { const: "1.0" },
    chainId: { type: "string", pattern: "^[1-9][0-9]*$" },
    createdAt: { type: "integer", minimum: 0 },
    meta: {
      type: "object",
      required: ["name", "description", "txBuilderVersion", "createdFromSafeAddress"],
      properties: {
        name: { type: "string", minLength: 1 },
        description: { type: "string" },
        txBuilderVersion: { type: "string", pattern: "^\\d+\\.\\d+\\.\\d+$" },
        createdFromSafeAddress: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
        createdFromOwnerAddress: { type: "string" },
        checksum: { type: "string", pattern: "^0x[0-9a-f]{64}$" },
      },
    },
    transactions: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["to", "value", "data", "contractMethod", "contractInputsValues"],
        properties: {
          to: { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" },
          value: { type: "string", pattern: "^[0-9]+$" },
          data: { type: ["string", "null"], pattern: "^0x([0-9a-fA-F]{2})*$" },
          contractMethod: {
            type: "object",
            required: ["inputs", "name", "payable"],
            properties: {
              name: { type: "string", minLength: 1 },
              payable: { type: "boolean" },
              inputs: {
                type: "array",
                items: { type: "object", required: ["name", "type"], properties: { name: { type: "string" }, type: { type: "string" }, internalType: { type: "string" } } },
              },
            },
          },
          contractInputsValues: { type: "object", additionalProperties: { type: "string" } },
        },
      },
    },
  },
} as const;

type Schema = {
  type?: string | readonly string[];
  const?: unknown;
  required?: readonly string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  minItems?: number;
  minLength?: number;
  minimum?: number;
  pattern?: string;
};

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && Number.isInteger(v)) return "integer";
  return typeof v;
}

/** Validates `value` against the schema subset above; returns "path: problem" lines (empty = valid). */
export function validateAgainstSchema(value: unknown, schema: Schema, at = "$"): string[] {
  const errors: string[] = [];
  if (schema.const !== undefined && value !== schema.const) errors.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (schema.type !== undefined) {
    const types = typeof schema.type === "string" ? [schema.type] : schema.type;
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) {
      errors.push(`${at}: expected ${types.join(" or ")}, got ${t}`);
      return errors;
    }
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) errors.push(`${at}: does not match ${schema.pattern}`);
  }
  if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum) errors.push(`${at}: below ${schema.minimum}`);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.items) value.forEach((v, i) => errors.push(...validateAgainstSchema(v, schema.items!, `${at}[${i}]`)));
  } else if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in obj)) errors.push(`${at}.${key}: required`);
    for (const [key, v] of Object.entries(obj)) {
      const sub = schema.properties?.[key] ?? schema.additionalProperties;
      if (sub) errors.push(...validateAgainstSchema(v, sub, `${at}.${key}`));
    }
  }
  return errors;
}

/** Schema check plus the semantic ones: checksum, and every input of contractMethod given a value. */
export function validateSafeBatch(doc: unknown): string[] {
  const errors = validateAgainstSchema(doc, SAFE_BATCH_SCHEMA as unknown as Schema);
  if (errors.length > 0) return errors;
  const batch = doc as SafeBatch;
  if (batch.meta.checksum !== undefined && batch.meta.checksum !== safeBatchChecksum(batch)) errors.push("$.meta.checksum: does not match the batch");
  batch.transactions.forEach((tx, i) => {
    for (const input of tx.contractMethod.inputs) {
      if (!(input.name in tx.contractInputsValues)) errors.push(`$.transactions[${i}].contractInputsValues.${input.name}: missing`);
    }
  });
  return errors;
}
