// Evidence bundles. Everything a proposed update rests on — the data report, the model fit, the
// backtest summary, the fork outcome, the config hash and the proposal — as one canonical JSON
// document (keys sorted, bigint as decimal strings, no whitespace). Its keccak256 is the evidence
// hash that travels on-chain with the update; the bundle is written to
// `<stateDir>/evidence/<hash>.json` atomically BEFORE the hash is used anywhere, so every hash on
// chain has its file. verifyEvidence() recomputes the hash of a file.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { RiskkeeperError } from "../errors.ts";
import { writeFileAtomic } from "./atomic-file.ts";

export interface EvidenceBundle {
  /** Data report: source files, row counts, first/last timestamps, gaps, validation findings. */
  dataReport: unknown;
  /** Model fit: model name, parameters, log-likelihood, convergence, the buffer it implies. */
  modelFit: unknown;
  /** Backtest summary: coverage tests, breaches, cost, verdict. */
  backtest: unknown;
  /** Fork outcome: scenarios, bad debt before/after, verdict. Null when the fork gate is off. */
  fork: unknown;
  /** configHash() of the keeper config in force. */
  configHash: string;
  /** The proposal: market, parameter updates, current values, route (direct/governance/automation). */
  proposal: unknown;
}

const HASH = /^0x[0-9a-f]{64}$/;

/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit), no whitespace, bigint as a decimal
 * string, undefined object members dropped (as JSON.stringify does). Non-finite numbers,
 * functions, symbols and cycles are refused: they have no canonical form.
 */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): string => {
    if (v === null) return "null";
    switch (typeof v) {
      case "bigint":
        return JSON.stringify(v.toString(10));
      case "number":
        if (!Number.isFinite(v)) throw new RiskkeeperError("INPUT_INVALID", `non-finite number ${v} has no canonical JSON`, { input: at });
        return JSON.stringify(v);
      case "string":
      case "boolean":
        return JSON.stringify(v);
      case "object": {
        if (seen.has(v as object)) throw new RiskkeeperError("INPUT_INVALID", "cycle in evidence", { input: at });
        seen.add(v as object);
        let out: string;
        if (Array.isArray(v)) {
          out = `[${v.map((x, i) => (x === undefined ? "null" : walk(x, `${at}[${i}]`))).join(",")}]`;
        } else if (v instanceof Date) {
          out = JSON.stringify(v.toISOString());
        } else {
          const o = v as Record<string, unknown>;
          const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
          out = `{${keys.map((k) => `${JSON.stringify(k)}:${walk(o[k], `${at}.${k}`)}`).join(",")}}`;
        }
        seen.delete(v as object);
        return out;
      }
      default:
        throw new RiskkeeperError("INPUT_INVALID", `a ${typeof v} has no canonical JSON`, { input: at });
    }
  };
  return walk(value, "$");
}

/** keccak256 of the canonical JSON of `value` (0x-prefixed, lower-case hex). */
export function evidenceHash(value: unknown): string {
  return keccak256(toUtf8Bytes(canonicalJson(value)));
}

/** The file a bundle with this hash lives in. */
export function evidenceFile(stateDir: string, hash: string): string {
  if (!HASH.test(hash)) throw new RiskkeeperError("INPUT_INVALID", `not an evidence hash: ${hash}`, { input: "hash" });
  return path.join(stateDir, "evidence", `${hash}.json`);
}

/**
 * Writes the bundle to `<stateDir>/evidence/<hash>.json` (atomic, durable) and returns the hash
 * and the file. Only use the hash after this resolves. Writing the same bundle twice is harmless.
 */
export async function writeEvidence(stateDir: string, bundle: EvidenceBundle): Promise<{ hash: string; file: string }> {
  if (typeof bundle?.configHash !== "string" || !HASH.test(bundle.configHash)) {
    throw new RiskkeeperError("INPUT_INVALID", "configHash must be a 32-byte hex string (configHash(config))", { input: "evidence.configHash" });
  }
  for (const key of ["dataReport", "modelFit", "backtest", "fork", "proposal"] as const) {
    if (!(key in bundle)) throw new RiskkeeperError("INPUT_INVALID", "missing (use null for a stage that did not run)", { input: `evidence.${key}` });
  }
  const text = canonicalJson(bundle);
  const hash = keccak256(toUtf8Bytes(text));
  const file = evidenceFile(stateDir, hash);
  await writeFileAtomic(file, text);
  return { hash, file };
}

/** Reads a bundle back (parsed), checking its hash first. Throws STATE_INVALID when the file does not match. */
export async function readEvidence(stateDir: string, hash: string): Promise<EvidenceBundle> {
  const file = evidenceFile(stateDir, hash);
  const result = await verifyEvidence(file, hash);
  if (!result.ok) throw new RiskkeeperError("STATE_INVALID", `evidence file does not match its hash (actual ${result.actual})`, { input: file });
  return JSON.parse(await readFile(file, "utf8")) as EvidenceBundle;
}

/** Recomputes the keccak256 of the file's bytes and compares it with `hash`. */
export async function verifyEvidence(file: string, hash: string): Promise<{ ok: boolean; actual: string | undefined }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return { ok: false, actual: undefined };
  }
  const actual = keccak256(bytes);
  return { ok: actual === hash.toLowerCase(), actual };
}
