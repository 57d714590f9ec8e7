// Decoding a revert into the contract's custom error (name and arguments), from whatever shape the
// provider wrapped it in.
import type { Interface } from "ethers";

export interface DecodedRevert {
  /** Custom error name, e.g. "StewardStepTooLarge"; "Error" / "Panic" for the built-ins. */
  name: string;
  signature: string;
  args: Record<string, string>;
  /** Raw revert data (0x when none). */
  data: string;
}

/** Finds the revert data in an ethers / EIP-1193 error (it nests differently per provider). */
export function revertDataOf(error: unknown, depth = 0): string | undefined {
  if (depth > 6 || typeof error !== "object" || error === null) return undefined;
  const e = error as Record<string, unknown>;
  if (typeof e.data === "string" && /^0x[0-9a-fA-F]*$/.test(e.data) && e.data.length >= 10) return e.data;
  if (typeof e.data === "object" && e.data !== null) {
    const inner = revertDataOf(e.data, depth + 1);
    if (inner) return inner;
  }
  for (const key of ["error", "info", "cause", "revert"]) {
    const inner = revertDataOf(e[key], depth + 1);
    if (inner) return inner;
  }
  return undefined;
}

/** Decodes revert data with the first interface that knows its selector. */
export function decodeRevertData(data: string, interfaces: readonly Interface[]): DecodedRevert | undefined {
  if (!data || data === "0x" || data.length < 10) return undefined;
  for (const iface of interfaces) {
    try {
      const parsed = iface.parseError(data);
      if (!parsed) continue;
      const args: Record<string, string> = {};
      parsed.fragment.inputs.forEach((input, i) => {
        args[input.name || String(i)] = String(parsed.args[i]);
      });
      return { name: parsed.name, signature: parsed.signature, args, data };
    } catch {
      // not this interface
    }
  }
  return undefined;
}

export function formatRevert(r: DecodedRevert): string {
  const args = Object.entries(r.args).map(([k, v]) => `${k}=${v}`).join(", ");
  return `${r.name}(${args})`;
}
